import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrameParts } from './codec';
import { FrameDecoder } from './decoder';
import type { QueryRequest, ResultReply } from './messages';

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A loopback server that answers each batch of QUERY frames in reverse order. */
async function reversingServer(batch: number): Promise<{ port: number; decoder: Promise<FrameDecoder> }> {
  let resolveDecoder!: (d: FrameDecoder) => void;
  const decoder = new Promise<FrameDecoder>((r) => (resolveDecoder = r));
  const server = net.createServer((socket) => {
    const d = new FrameDecoder();
    resolveDecoder(d);
    let held: { id: number; q: QueryRequest }[] = [];
    socket.on('data', (chunk) => {
      for (const e of d.push(chunk)) {
        if (!e.ok) throw e.error;
        held.push({ id: e.requestId, q: e.message as QueryRequest });
        if (held.length < batch) continue;
        socket.cork();
        for (const { id, q } of held.reverse()) {
          const reply: ResultReply = {
            type: 'result',
            k: q.k,
            counts: new Uint32Array([q.k]),
            ids: Array.from({ length: q.k }, (_, i) => `${id}:${i}`),
            scores: q.vectors.slice(0, q.k),
          };
          for (const part of encodeFrameParts(reply, id)) socket.write(part);
        }
        socket.uncork();
        held = [];
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, decoder };
}

describe('frames over a real loopback socket', () => {
  it('pipelines requests and matches out-of-order replies by request id', async () => {
    const requests = 200;
    const dim = 96;
    const { port, decoder } = await reversingServer(10);
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));

    const sent = new Map<number, Float32Array>();
    socket.cork();
    for (let id = 1; id <= requests; id++) {
      const vectors = Float32Array.from({ length: dim }, (_, j) => id + j / 1000);
      sent.set(id, vectors);
      for (const part of encodeFrameParts({ type: 'query', collection: 'docs', dim, k: 4, vectors }, id)) socket.write(part);
    }
    socket.uncork();

    const client = new FrameDecoder();
    const order: number[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk) => {
        for (const e of client.push(chunk)) {
          if (!e.ok) return reject(e.error);
          const r = e.message as ResultReply;
          const q = sent.get(e.requestId);
          if (!q) return reject(new Error(`reply for unknown request ${e.requestId}`));
          expect(r.ids).toEqual([0, 1, 2, 3].map((i) => `${e.requestId}:${i}`));
          expect([...r.scores]).toEqual([...q.subarray(0, 4)]);
          sent.delete(e.requestId);
          order.push(e.requestId);
        }
        if (sent.size === 0) resolve();
      });
    });
    socket.destroy();

    expect(order.slice(0, 10)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const server = await decoder;
    expect(server.stats.frames).toBe(requests);
    // Socket chunks start at offset 0 of their own buffer: only frames cut by a chunk edge are copied.
    expect(server.stats.copiedFrames).toBeLessThan(requests / 2);
    expect(client.bufferedBytes).toBe(0);
  });
});
