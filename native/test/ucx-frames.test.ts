// The protocol's socket test over UCX (packages/protocol/src/socket.int.test.ts runs it over TCP;
// the protocol package has no native dependency): 200 pipelined QUERY frames, replies in reverse
// order per batch, matched by request id; and one 1000 x 1536-d frame both ways.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrameParts, type QueryRequest, type ResultReply } from '@ragwire/protocol';
import { acceptUcx, connectUcx, transports, type UcxSocket } from '../lib/index';

describe.skipIf(!transports().ucx.available)('frames over ucx://', () => {
  let server: net.Server;
  let port = 0;

  beforeAll(async () => {
    // Answers every 10 QUERY frames in reverse order; echoes the first vector back as scores.
    server = net.createServer((control) => {
      void acceptUcx(control, 2000).then((socket: UcxSocket) => {
        const d = new FrameDecoder();
        let held: { id: number; q: QueryRequest }[] = [];
        socket.on('error', () => undefined);
        socket.on('data', (chunk: Buffer) => {
          for (const e of d.push(chunk)) {
            if (!e.ok) throw e.error;
            held.push({ id: e.requestId, q: e.message as QueryRequest });
            if (held.length < 10 && held[0]!.q.vectors.length / held[0]!.q.dim === 1) continue;
            for (const { id, q } of held.reverse()) {
              const n = q.vectors.length / q.dim;
              const reply: ResultReply = {
                type: 'result',
                k: 1,
                counts: new Uint32Array(n).fill(1),
                ids: Array.from({ length: n }, (_, i) => `${id}:${i}`),
                scores: q.vectors.slice(0, n),
              };
              for (const part of encodeFrameParts(reply, id)) socket.write(part);
            }
            held = [];
          }
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => server.close());

  async function connect(): Promise<UcxSocket> {
    const socket = connectUcx('127.0.0.1', port);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return socket;
  }

  it('pipelines requests and matches out-of-order replies by request id', async () => {
    const socket = await connect();
    const dim = 96;
    const sent = new Map<number, Float32Array>();
    for (let id = 1; id <= 200; id++) {
      const vectors = Float32Array.from({ length: dim }, (_, j) => id + j / 1000);
      sent.set(id, vectors);
      for (const part of encodeFrameParts({ type: 'query', collection: 'docs', dim, k: 1, vectors }, id)) socket.write(part);
    }
    const decoder = new FrameDecoder();
    const order: number[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        for (const e of decoder.push(chunk)) {
          if (!e.ok) return reject(e.error);
          const r = e.message as ResultReply;
          expect(r.ids).toEqual([`${e.requestId}:0`]);
          expect(r.scores[0]).toBe(sent.get(e.requestId)![0]);
          sent.delete(e.requestId);
          order.push(e.requestId);
        }
        if (sent.size === 0) resolve();
      });
    });
    expect(order.slice(0, 10)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    socket.destroy();
  });

  it('carries a 1000 x 1536-d frame (6 MiB) in both directions', async () => {
    const socket = await connect();
    const dim = 1536;
    const vectors = Float32Array.from({ length: 1000 * dim }, (_, i) => i);
    for (const part of encodeFrameParts({ type: 'query', collection: 'wide', dim, k: 1, vectors }, 7)) socket.write(part);
    const decoder = new FrameDecoder();
    const reply = await new Promise<ResultReply>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        for (const e of decoder.push(chunk)) {
          if (!e.ok) return reject(e.error);
          resolve(e.message as ResultReply);
        }
      });
    });
    expect(reply.counts).toHaveLength(1000);
    expect([...reply.scores.subarray(0, 3)]).toEqual([0, 1, 2]);
    socket.destroy();
  });
});
