// Every fleet failure is a typed error and nothing hangs: NATS unreachable at start, NATS lost
// mid-write, a full stream, a stale shard map revision, a replica behind minSeq, a member that stops
// beating. Real nats-server processes and a real shard server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ShardClient } from '@ragwire/client';
import { FleetCatalog, Membership, WriteLog, evenShardMap } from '@ragwire/fleet';
import { startShardServer, type ShardServer } from '@ragwire/shard-server';
import { freePort, startNats, type NatsNode } from '@ragwire/processes';

const DIM = 4;
const one = (id: string) => ({ dim: DIM, ids: [id], vectors: new Float32Array(DIM).fill(0.5) });

describe('fleet failures are typed and bounded', () => {
  let nats: NatsNode & { cleanup(): Promise<void> };
  let nc: NatsConnection;
  const dirs: string[] = [];

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  }, 30_000);

  afterAll(async () => {
    await nc?.close();
    await nats?.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('NATS unreachable at start: RAGWIRE_ERR_LOG_UNAVAILABLE for a writer and for a shard server', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const t0 = Date.now();
    await expect(WriteLog.connect({ servers: url, connectTimeoutMs: 1000 })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_LOG_UNAVAILABLE' });
    const dir = mkdtempSync(join(tmpdir(), 'ragwire-fleet-err-'));
    dirs.push(dir);
    await expect(startShardServer({ listen: ['tcp://127.0.0.1:0'], dataDir: dir, logLevel: 'silent', fleet: { nats: [url] } })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_LOG_UNAVAILABLE',
    });
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);

  it('a full stream: RAGWIRE_ERR_LOG_FULL, and nothing after it was appended', async () => {
    const log = await WriteLog.connect({ servers: nats.url, maxBytes: 32 * 1024, prefix: 'full' });
    let acked = 0;
    let error: unknown;
    for (let i = 0; i < 10_000 && error === undefined; i++) {
      try {
        await log.appendUpsert('small', one(`d${i}`));
        acked++;
      } catch (e) {
        error = e;
      }
    }
    expect(error).toMatchObject({ code: 'RAGWIRE_ERR_LOG_FULL' });
    expect(await log.lastSeq('small')).toBe(acked);
    await log.close();
  }, 60_000);

  it('NATS lost mid-write: each write resolves or fails typed, never both, and every resolved write is in the log', async () => {
    const node = await startNats();
    const log = await WriteLog.connect({ servers: node.url, writeTimeoutMs: 1500, prefix: 'lost' });
    const outcomes: ('ok' | 'failed')[] = [];
    const ackedSeqs: number[] = [];
    const failures: string[] = [];
    const writes = Array.from({ length: 200 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 5));
      try {
        const { seq } = await log.appendUpsert('c', one(`d${i}`));
        ackedSeqs.push(seq);
        outcomes.push('ok');
      } catch (e) {
        failures.push((e as { code?: string }).code ?? String(e));
        outcomes.push('failed');
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    await node.kill9();
    const t0 = Date.now();
    await Promise.all(writes);
    expect(Date.now() - t0).toBeLessThan(15_000); // no hang
    expect(outcomes.length).toBe(200); // each of the 200 writes settled once, as ok or as a typed failure
    expect(new Set(failures)).toEqual(new Set(['RAGWIRE_ERR_LOG_UNAVAILABLE']));
    await node.restart();
    const check = await WriteLog.connect({ servers: node.url, prefix: 'lost' });
    const last = await check.lastSeq('c');
    expect(Math.max(0, ...ackedSeqs)).toBeLessThanOrEqual(last); // every acknowledged write survived the kill -9
    console.log(`NATS kill -9 mid-write: ${ackedSeqs.length} acknowledged, ${failures.length} failed typed, log holds ${last}`);
    await check.close();
    await log.close();
    await node.cleanup();
  }, 60_000);

  it('a shard map changes only by compare-and-set: a stale revision is RAGWIRE_ERR_STALE_EPOCH', async () => {
    const catalog = await FleetCatalog.open(nc, { prefix: 'cas' });
    const rev = await catalog.casShardMap('m', evenShardMap(16, [['a'], ['b']]), 0);
    await expect(catalog.casShardMap('m', evenShardMap(16, [['a']]), 0)).rejects.toMatchObject({ code: 'RAGWIRE_ERR_STALE_EPOCH' });
    const rev2 = await catalog.casShardMap('m', evenShardMap(16, [['a'], ['b'], ['c']], 2), rev);
    await expect(catalog.casShardMap('m', evenShardMap(16, [['a']], 3), rev)).rejects.toMatchObject({ code: 'RAGWIRE_ERR_STALE_EPOCH' });
    expect(await catalog.shardMap('m')).toMatchObject({ revision: rev2, map: { epoch: 2 } });
  });

  it('a member that stops beating expires after its TTL', async () => {
    const members = await Membership.open(nc, { prefix: 'ttl', ttlMs: 1500 });
    const stop = members.heartbeat({ id: 'm1', addresses: ['tcp://127.0.0.1:1'] }, 300, () => undefined);
    members.heartbeat({ id: 'm2', addresses: ['tcp://127.0.0.1:2'] }, 300, () => undefined)();
    await new Promise((r) => setTimeout(r, 600));
    expect((await members.members()).map((m) => m.id).sort()).toEqual(['m1', 'm2']);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await members.members()).map((m) => m.id)).toEqual(['m1']);
    stop();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await members.members()).toEqual([]);
  }, 30_000);

  it('a replica behind minSeq answers RAGWIRE_ERR_REPLICA_BEHIND after its bound; /readyz once caught up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ragwire-fleet-behind-'));
    dirs.push(dir);
    const server: ShardServer = await startShardServer({
      listen: ['tcp://127.0.0.1:0'],
      admin: '127.0.0.1:0',
      dataDir: dir,
      logLevel: 'silent',
      fleet: { nats: [nats.url], member: 'b1', minSeqWaitMs: 300 },
    });
    const log = await WriteLog.connect({ servers: nats.url });
    await log.register({ collection: 'behind', dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
    const { seq } = await log.appendUpsert('behind', one('x'));
    const c = new ShardClient(server.addresses[0]!);
    const q = { collection: 'behind', dim: DIM, k: 1, vectors: new Float32Array(DIM).fill(0.5) };
    for (let i = 0; i < 50 && (await c.request({ type: 'describe' })).collections.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await c.query({ ...q, options: { minSeq: seq } })).ids).toEqual(['x']);
    const t0 = Date.now();
    await expect(c.query({ ...q, options: { minSeq: seq + 1000 } })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_REPLICA_BEHIND' });
    expect(Date.now() - t0).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, 1200)); // the stream's end is polled each second
    expect((await fetch(`${server.adminUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/ragwire_fleet_log_lag\{collection="behind"\} 0/);
    await c.close();
    await log.close();
    await server.close();
  }, 30_000);
});
