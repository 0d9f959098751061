// UcxSocket within one process (UCX's self/shared-memory path): the byte stream, its end, its
// credit window under a reader that pauses, and an idle worker that sleeps instead of spinning.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptUcx, connectUcx, transports, type UcxSocket } from '../lib/index';
import { ucxWorker } from '../lib/ucx-worker';

const ucx = transports().ucx;

describe.skipIf(!ucx.available)('UcxSocket', () => {
  let server: net.Server;
  let port = 0;
  const accepted: UcxSocket[] = [];
  const waiters: ((s: UcxSocket) => void)[] = [];

  beforeAll(async () => {
    server = net.createServer((control) => {
      void acceptUcx(control, 2000).then((s) => {
        const w = waiters.shift();
        if (w) w(s);
        else accepted.push(s);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => server.close());

  async function pair(): Promise<[UcxSocket, UcxSocket]> {
    const client = connectUcx('127.0.0.1', port);
    const peer = new Promise<UcxSocket>((r) => (accepted.length > 0 ? r(accepted.shift()!) : waiters.push(r)));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    return [client, await peer];
  }

  it('reports what the build has', () => {
    expect(ucx.built).toBe(true);
    expect(ucx.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('carries bytes both ways, in order, and ends cleanly', async () => {
    const [client, peer] = await pair();
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const got: Buffer[] = [];
    peer.on('data', (c: Buffer) => got.push(c));
    const ended = new Promise<void>((r) => peer.once('end', r));
    client.write(Buffer.from('hello '));
    client.write(big);
    client.end();
    await ended;
    const all = Buffer.concat(got);
    expect(all.subarray(0, 6).toString()).toBe('hello ');
    expect(all.subarray(6).equals(big)).toBe(true);
    const closed = Promise.all([new Promise((r) => client.once('close', r)), new Promise((r) => peer.once('close', r))]);
    client.resume();
    peer.end(Buffer.from('bye'));
    await closed;
  });

  it('a paused reader stops the writer at the credit window', async () => {
    const [client, peer] = await pair();
    peer.pause();
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 16; i++) client.write(chunk);
    await new Promise((r) => setTimeout(r, 300));
    // The window (4 MiB) and the reader's buffer bound what reached the peer; the rest waits at the writer.
    expect(peer.bytesRead).toBeLessThanOrEqual(ucxWorker().windowBytes + 256 * 1024);
    expect(client.writableLength).toBeGreaterThan(8 * 1024 * 1024);
    let total = 0;
    const done = new Promise<void>((r) => peer.on('data', (c: Buffer) => (total += c.length) === 16 * chunk.length && r()));
    peer.resume();
    await done;
    client.destroy();
    peer.destroy();
  });

  it('an idle worker sleeps rather than spins', async () => {
    const before = ucxWorker().stats().sleeps;
    await new Promise((r) => setTimeout(r, 50));
    const [client, peer] = await pair();
    client.write(Buffer.from('x'));
    await new Promise((r) => peer.once('data', r));
    await new Promise((r) => setTimeout(r, 50));
    expect(ucxWorker().stats().sleeps).toBeGreaterThan(before);
    client.destroy();
    peer.destroy();
  });

  it('a destroyed peer is a closed connection with an error, not a hang', async () => {
    const [client, peer] = await pair();
    const closed = new Promise<Error | undefined>((r) => {
      let err: Error | undefined;
      client.on('error', (e) => (err = e));
      client.once('close', () => r(err));
    });
    peer.destroy();
    const err = await closed;
    expect(err?.message).toMatch(/control connection|UCX/);
  });
});
