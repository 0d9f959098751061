import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrameParts } from './codec';
import { FrameDecoder } from './decoder';
import { FrameWriter } from './frame-writer';
import type { QueryRequest } from './messages';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A client socket connected to a loopback server on port 0, and the server's side of it. */
async function loopback(): Promise<{ client: net.Socket; server: net.Socket }> {
  let accepted!: (s: net.Socket) => void;
  const serverSide = new Promise<net.Socket>((r) => (accepted = r));
  const server = net.createServer(accepted);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const s = await serverSide;
  closers.push(() => {
    client.destroy();
    s.destroy();
    server.close();
  });
  return { client, server: s };
}

const query = (k: number): QueryRequest => ({ type: 'query', collection: 'docs', dim: 3, k, vectors: Float32Array.of(k, 1, 2) });

describe('FrameWriter over a real loopback socket', () => {
  it('holds the frames of one tick in one corked write and sends them on the next tick, in order', async () => {
    const { client, server } = await loopback();
    const writer = new FrameWriter(client);
    const decoder = new FrameDecoder();
    const received: { id: number; k: number }[] = [];
    const all = new Promise<void>((resolve) => {
      server.on('data', (chunk: Buffer) => {
        for (const e of decoder.push(chunk)) {
          if (!e.ok) throw e.error;
          received.push({ id: e.requestId, k: (e.message as QueryRequest).k });
        }
        if (received.length === 100) resolve();
      });
    });

    for (let id = 1; id <= 50; id++) writer.write(encodeFrameParts(query(id), id));
    // Corked once however many frames: nothing has left yet, every byte waits in the stream.
    expect(client.writableCorked).toBe(1);
    expect(client.writableLength).toBeGreaterThan(50 * 16);
    await new Promise<void>((r) => process.nextTick(r));
    expect(client.writableCorked).toBe(0);

    // A later tick corks again, once.
    await new Promise((r) => setImmediate(r));
    for (let id = 51; id <= 100; id++) writer.write(encodeFrameParts(query(id), id));
    expect(client.writableCorked).toBe(1);

    await all;
    expect(client.writableCorked).toBe(0);
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => ({ id: i + 1, k: i + 1 })));
  });
});
