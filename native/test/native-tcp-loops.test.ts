// A native+tcp:// listener with several loop threads (native/lib/native-tcp.ts, src/dataplane/tcp_loop.cpp):
// the first loop accepts and hands the connections to each loop in turn, every connection's bytes
// reach JavaScript and its replies the peer, whichever loop owns it, and closing stops them all.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, FrameDecoder, encodeFrame } from '@ragwire/protocol';
import { listenNativeTcp, type NativeTcpSocket } from '../lib/index';

const LIMITS = { maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes, replyHighWaterBytes: 4 << 20, maxUnsentReplyBytes: 128 << 20 };

describe('a native+tcp:// listener with several loops', () => {
  it('spreads its connections over the loops in turn and serves each', async () => {
    const served: NativeTcpSocket[] = [];
    // Echoes every byte back: the frames come back whole, through the owning loop's reply queue.
    const listener = listenNativeTcp(
      '127.0.0.1',
      0,
      LIMITS,
      (socket) => {
        served.push(socket);
        socket.on('data', (chunk: Buffer) => socket.write(chunk));
      },
      { loops: 3 },
    );
    const clients: net.Socket[] = [];
    const echoes: Promise<number>[] = [];
    for (let i = 0; i < 9; i++) {
      const client = net.connect(listener.port, '127.0.0.1');
      clients.push(client);
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      const decoder = new FrameDecoder();
      echoes.push(
        new Promise((resolve, reject) => {
          client.on('data', (chunk: Buffer) => {
            for (const e of decoder.push(chunk)) e.ok ? resolve(e.requestId) : reject(e.error);
          });
        }),
      );
      client.write(encodeFrame({ type: 'describe' }, 100 + i));
    }
    expect(await Promise.all(echoes)).toEqual(Array.from({ length: 9 }, (_, i) => 100 + i));
    expect(served).toHaveLength(9);
    const byLoop = listener.statsByLoop();
    expect(byLoop.map((s) => s.accepted)).toEqual([3, 3, 3]);
    expect(byLoop.map((s) => s.open)).toEqual([3, 3, 3]);
    expect(listener.stats().frames).toBe(9);
    for (const c of clients) c.destroy();
    for (const s of served) s.destroy();
    await listener.close();
    expect(listener.stats().open).toBe(0);
    // Nothing listens any more.
    await expect(new Promise((resolve, reject) => net.connect(listener.port, '127.0.0.1').once('connect', resolve).once('error', reject))).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });

  it('never blocks in polling mode (RAGWIRE_POLL=1), and serves as usual', async () => {
    process.env.RAGWIRE_POLL = '1';
    const served: NativeTcpSocket[] = [];
    let listener: ReturnType<typeof listenNativeTcp>;
    try {
      listener = listenNativeTcp('127.0.0.1', 0, LIMITS, (socket) => {
        served.push(socket);
        socket.on('data', (chunk: Buffer) => socket.write(chunk));
      });
    } finally {
      delete process.env.RAGWIRE_POLL;
    }
    const client = net.connect(listener.port, '127.0.0.1');
    const echoed = new Promise<Buffer>((resolve) => client.once('data', resolve));
    client.write(encodeFrame({ type: 'describe' }, 7));
    expect((await echoed).readUInt32LE(8)).toBe(7);
    await new Promise((r) => setTimeout(r, 50));
    // Polling: the thread never went to sleep, busy or idle.
    expect(listener.stats().waits).toBe(0);
    client.destroy();
    for (const s of served) s.destroy();
    await listener.close();
  });

  it('refuses a loop count that is not a positive integer', () => {
    expect(() => listenNativeTcp('127.0.0.1', 0, LIMITS, () => undefined, { loops: 0 })).toThrow(RangeError);
    expect(() => listenNativeTcp('127.0.0.1', 0, LIMITS, () => undefined, { loops: 1.5 })).toThrow(RangeError);
  });
});
