// Issue 11, finding 3: idle connections, connections that never authenticate and frames that trickle
// in are closed by deadline; the server caps its connections. A real ragwire-shard process with short
// deadlines (set through --connection-limit); its RSS is sampled from /proc, and a well-behaved client
// is served during and after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { encodeFrame } from '@ragwire/protocol';
import { connectNeverReading, metricValue, rssMiB, sleep } from './peer-memory';
import { TCP_SCHEMES, killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const ADMIN = 'admin-token-0001';
const DIM = 4;
const LIMITS = {
  helloTimeoutMs: 1000,
  idleTimeoutMs: 1500,
  frameTimeoutMs: 500,
  minFrameBytesPerSecond: 1024 * 1024,
  maxConnections: 600,
  maxPartialFrameBytes: 8 * 1024 * 1024,
};

describe.each(TCP_SCHEMES)('a shard server with deadlines and a connection cap over %s://', (scheme) => {
  const dir = tempDir('deadlines');
  let server: ShardProcess;
  let url: string;
  let pid: number;
  let client: ShardClient;

  async function metrics(): Promise<string> {
    return (await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
  }

  async function served(): Promise<void> {
    const r = await client.query({ collection: 'docs', dim: DIM, k: 1, vectors: new Float32Array(DIM).fill(1) });
    expect(r.ids).toEqual(['a']);
  }

  async function closedCount(reason: string): Promise<number> {
    return metricValue(await metrics(), `ragwire_shard_connections_closed_total{reason="${reason}"}`);
  }

  async function authenticated(): Promise<Awaited<ReturnType<typeof connectNeverReading>>> {
    const s = await connectNeverReading(url);
    s.write(encodeFrame({ type: 'hello', versions: [1], token: ADMIN }, 1));
    return s;
  }

  beforeAll(async () => {
    const extra = Object.entries(LIMITS).flatMap(([name, value]) => ['--connection-limit', `${name}=${value}`]);
    server = await startShardProcess({ dataDir: dir.path, listen: [`${scheme}://127.0.0.1:0`], admin: true, tokens: [ADMIN], extra });
    url = server.addresses[0]!;
    pid = server.child.pid!;
    // The well-behaved client keeps its connection busy enough never to be idle for long.
    client = new ShardClient(url, { token: ADMIN });
    await client.createCollection({ collection: 'docs', dim: DIM, metric: 'l2', kind: 'flat', storage: 'f32' });
    await client.upsert({ collection: 'docs', dim: DIM, ids: ['a'], vectors: new Float32Array(DIM).fill(1) });
  });

  afterAll(async () => {
    await client?.close();
    if (server) expect(await server.stop()).toBe(0);
    killAll();
    dir.cleanup();
  });

  it('names its limits in /metrics', async () => {
    const text = await metrics();
    for (const [name, value] of Object.entries(LIMITS)) expect(metricValue(text, `ragwire_shard_connection_limit{name="${name}"}`)).toBe(value);
    expect(metricValue(text, 'ragwire_shard_connection_limit{name="preAuthMaxFrameBytes"}')).toBe(4096);
  });

  it('closes 500 connections that never send HELLO within the HELLO deadline', async () => {
    const before = rssMiB(pid);
    const peers = await Promise.all(Array.from({ length: 500 }, () => connectNeverReading(url)));
    await served();
    const whileOpen = rssMiB(pid) - before;
    let closed = 0;
    for (let i = 0; i < 60 && closed < 500; i++) {
      await sleep(100);
      closed = await closedCount('hello_timeout');
    }
    expect(closed).toBe(500);
    // Each gets a FIN and, a second later, is destroyed: at most the well-behaved client's connection
    // stays (it too is closed once idle past the idle timeout, and reopened by its next request).
    let open = Infinity;
    for (let i = 0; i < 40 && open > 1; i++) {
      await sleep(100);
      open = metricValue(await metrics(), 'ragwire_shard_connections');
    }
    expect(open).toBeLessThanOrEqual(1);
    // Unfixed: all 500 stayed open for 60 s and more. Bound: a few KiB per connection.
    expect(whileOpen).toBeLessThan(64);
    for (const s of peers) s.destroy();
    await served();
  });

  it('closes an authenticated connection that stays idle past the idle timeout', async () => {
    const idle = await authenticated();
    await sleep(LIMITS.idleTimeoutMs + 1200);
    expect(await closedCount('idle_timeout')).toBeGreaterThanOrEqual(1);
    await served();
    idle.destroy();
  });

  it('closes a frame that trickles in below the bytes-per-second floor', async () => {
    const before = await closedCount('frame_timeout');
    const slow = await authenticated();
    await sleep(100);
    // A header announcing a 256 KiB frame (allowed: 500 ms + 0.25 s), then one byte every 200 ms.
    const header = Buffer.alloc(12);
    header.writeUInt32LE(256 * 1024 - 4, 0);
    header.writeUInt8(1, 4);
    header.writeUInt8(0x10, 5); // UPSERT
    header.writeUInt32LE(2, 8);
    slow.write(header);
    const started = Date.now();
    let closed = before;
    while (closed === before && Date.now() - started < 6000) {
      slow.write(Buffer.alloc(1));
      await sleep(200);
      closed = await closedCount('frame_timeout');
    }
    // Unfixed: a 60 MiB frame at one byte per 200 ms stayed open for 30 s and more.
    expect(closed).toBe(before + 1);
    expect(Date.now() - started).toBeLessThan(4000);
    await served();
    slow.destroy();
  });

  it('holds partial frames within the server-wide budget, refusing the frame that would pass it', async () => {
    const before = rssMiB(pid);
    const peers = await Promise.all([0, 1, 2].map(() => authenticated()));
    await sleep(100);
    // Three frames of 3 MiB each, half sent: two fit the 8 MiB budget, the third is refused.
    for (const s of peers) {
      const header = Buffer.alloc(12);
      header.writeUInt32LE(3 * 1024 * 1024 - 4, 0);
      header.writeUInt8(1, 4);
      header.writeUInt8(0x10, 5);
      header.writeUInt32LE(2, 8);
      s.write(header);
      s.write(Buffer.alloc(1536 * 1024, 7));
      await sleep(100);
    }
    let refused = 0;
    for (let i = 0; i < 30 && refused < 1; i++) {
      await sleep(100);
      refused = await closedCount('partial_frame_budget');
    }
    expect(refused).toBe(1);
    const text = await metrics();
    expect(metricValue(text, 'ragwire_shard_partial_frame_bytes')).toBe(6 * 1024 * 1024);
    expect(metricValue(text, 'ragwire_shard_frame_errors_total{code="RAGWIRE_ERR_OVERLOADED"}')).toBe(1);
    expect(rssMiB(pid) - before).toBeLessThan(64);
    await served();
    for (const s of peers) s.destroy();
    await sleep(200);
    expect(metricValue(await metrics(), 'ragwire_shard_partial_frame_bytes')).toBe(0);
  });

  it('refuses connections past the cap with RAGWIRE_ERR_OVERLOADED, then serves again', async () => {
    const refusedBefore = await closedCount('max_connections');
    const peers = await Promise.all(Array.from({ length: 650 }, () => connectNeverReading(url)));
    // At least 50 are refused (more when earlier connections still hold slots): the server never holds more than its cap.
    let refused = 0;
    for (let i = 0; i < 20 && refused < 650 - LIMITS.maxConnections; i++) {
      await sleep(50);
      refused = (await closedCount('max_connections')) - refusedBefore;
    }
    expect(refused).toBeGreaterThanOrEqual(650 - LIMITS.maxConnections);
    expect(metricValue(await metrics(), 'ragwire_shard_connections')).toBeLessThanOrEqual(LIMITS.maxConnections);
    // Once the HELLO deadline clears the hostile connections, new ones are served.
    await sleep(LIMITS.helloTimeoutMs + 1000);
    for (const s of peers) s.destroy();
    const fresh = new ShardClient(url, { token: ADMIN });
    const r = await fresh.query({ collection: 'docs', dim: DIM, k: 1, vectors: new Float32Array(DIM).fill(1) });
    expect(r.ids).toEqual(['a']);
    await fresh.close();
    await served();
  });
});
