// Issue 11: a shard that stops reading must not grow its client without bound. A real TCP server
// answers HELLO, then never reads again; the client's sends fail with RAGWIRE_ERR_SLOW_CONSUMER
// once its unsent bytes pass the bound, instead of buffering every request.
// The same over ucx:// where this build has UCX: the shard's credit window stops the client.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptUcx, transports } from '@ragwire/native';
import { FrameDecoder, encodeFrame, isRagwireError } from '@ragwire/protocol';
import { ShardClient } from './shard-client';

const SCHEMES = transports().ucx.available ? ['tcp', 'ucx'] : ['tcp'];

describe.each(SCHEMES)('a client against a shard that never reads, over %s://', (scheme) => {
  let server: net.Server;
  let url: string;
  const sockets: Duplex[] = [];

  beforeAll(async () => {
    const stalling = (socket: Duplex): void => {
      sockets.push(socket);
      const decoder = new FrameDecoder();
      socket.on('data', (chunk) => {
        for (const e of decoder.push(chunk)) {
          if (e.ok && e.message.type === 'hello') {
            socket.write(encodeFrame({ type: 'hello_ok', version: 1, server: 'stalled' }, e.requestId));
            socket.pause(); // from now on, nothing is read
          }
        }
      });
      socket.on('error', () => undefined);
    };
    server = net.createServer((socket) => (scheme === 'ucx' ? void acceptUcx(socket, 2000).then(stalling) : stalling(socket)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `${scheme}://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('refuses requests past maxUnsentBytes with RAGWIRE_ERR_SLOW_CONSUMER', async () => {
    const maxUnsentBytes = 8 * 1024 * 1024;
    const client = new ShardClient(url, { maxUnsentBytes, timeoutMs: 0 });
    const dim = 1024;
    const vectors = new Float32Array(256 * dim).fill(0.5); // ~1 MiB per upsert frame
    const ids = Array.from({ length: 256 }, (_, i) => `d${i}`);
    let refusedAt = -1;
    let code: string | undefined;
    const heapBefore = process.memoryUsage().arrayBuffers;
    // The first request opens the connection (a UCX handshake takes a few round trips more than TCP's).
    client.request({ type: 'upsert', collection: 'docs', dim, ids, vectors }).catch(() => undefined);
    for (let t = 0; t < 200 && client.inFlight === 0; t++) await new Promise((r) => setTimeout(r, 10));
    for (let i = 1; i < 200 && refusedAt < 0; i++) {
      client.request({ type: 'upsert', collection: 'docs', dim, ids, vectors }).catch((error: unknown) => {
        if (refusedAt < 0) {
          refusedAt = i;
          code = isRagwireError(error) ? error.code : String(error);
        }
      });
      await new Promise((r) => setImmediate(r));
    }
    expect(code).toBe('RAGWIRE_ERR_SLOW_CONSUMER');
    // The kernel's socket buffers take a few MiB; past them, at most the bound plus one frame waits in the process.
    expect(refusedAt).toBeLessThan(64);
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(maxUnsentBytes + 16 * 1024 * 1024);
    await client.close();
  });
});
