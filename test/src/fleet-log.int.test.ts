// Writes through the JetStream log: replicas converge exactly once, read-your-writes, delete by filter,
// a kill -9 of shard servers while writing. Real nats-server, real shard server processes, real LMDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { ShardClient, ShardedCollection } from '@ragwire/client';
import { FleetCatalog } from '@ragwire/fleet';
import { startFleetSession, waitConverged, type FleetSession, type TestFleet } from './fleet-harness';
import { killAll } from './processes';

const DIM = 8;
const SCALE = Number(process.env.RAGWIRE_FLEET_SCALE ?? 1);

function vectorsFor(ids: string[]): Float32Array {
  const v = new Float32Array(ids.length * DIM);
  ids.forEach((id, i) => {
    let h = 0;
    for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    for (let d = 0; d < DIM; d++) v[i * DIM + d] = ((h >>> (d * 3)) & 0xff) / 255 + 0.01;
  });
  return v;
}

describe('fleet: writes through the JetStream log', () => {
  let session: FleetSession;
  let fleet: TestFleet;
  let nc: NatsConnection;
  let coll: ShardedCollection;
  const collection = 'docs.fleet';

  beforeAll(async () => {
    session = await startFleetSession({ collection, shards: 2, replicas: 2, dim: DIM });
    ({ fleet, nc } = session);
    coll = session.open();
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    killAll();
  });

  it('refuses a direct write on a fleet member', async () => {
    const c = new ShardClient(fleet.members[0]![0]!.url!);
    await expect(c.upsert({ collection, dim: DIM, ids: ['x'], vectors: new Float32Array(DIM).fill(1) })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
    });
    await c.close();
  });

  it('reads its own writes under session consistency (every iteration)', async () => {
    const iterations = Math.round(200 * SCALE);
    let seen = 0;
    for (let i = 0; i < iterations; i++) {
      const id = `ryw-${i}`;
      const vectors = vectorsFor([id]);
      const { seq } = await coll.upsert({ ids: [id], vectors, payloads: [{ metadata: { group: 'ryw' } }] });
      expect(seq).toBeGreaterThan(0);
      const r = await coll.query({ vectors, k: 1, options: { exact: true }, filter: { must: [{ key: 'group', eq: 'ryw' }] } });
      if (r.ids.includes(id)) seen++;
    }
    expect(seen).toBe(iterations);
    console.log(`read-your-writes: ${seen}/${iterations} writes seen by the next query`);
  }, 120_000);

  it('converges every replica to the log, each write applied once, through kill -9 of shard servers', async () => {
    const total = Math.round(4000 * SCALE);
    const batch = 50;
    const writers = 4;
    let next = 0;
    let acked = 0;
    const kills = (async () => {
      for (let k = 0; k < 2; k++) {
        await new Promise((r) => setTimeout(r, 400));
        const s = k % 2;
        await fleet.kill9(s, 1);
        await new Promise((r) => setTimeout(r, 300));
        await fleet.restart(s, 1);
      }
    })();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (;;) {
          const start = next;
          if (start >= total) return;
          next += batch;
          const ids = Array.from({ length: Math.min(batch, total - start) }, (_, i) => `doc-${start + i}`);
          await coll.upsert({ ids, vectors: vectorsFor(ids), payloads: ids.map((id) => ({ metadata: { group: Number(id.slice(4)) % 3 } })) });
          acked += ids.length;
        }
      }),
    );
    await kills;
    expect(acked).toBe(total);
    const { expected, states } = await waitConverged(fleet, nc, collection, 60_000);
    const ryw = Math.round(200 * SCALE);
    const docs = states.map((rs) => rs[0]!.docs).reduce((a, b) => a + b, 0);
    console.log(`convergence: ${acked} acknowledged, replicas ${JSON.stringify(states)}, expected writes per shard ${JSON.stringify(expected)}`);
    for (const [s, rs] of states.entries()) {
      for (const r of rs) {
        expect(r.writes).toBe(expected[s]); // each log message of the shard applied once: no loss, no duplicate
        expect(r.docs).toBe(rs[0]!.docs);
      }
    }
    expect(docs).toBe(total + ryw); // every acknowledged document on exactly one shard
  }, 180_000);

  it('a replica stopped while the log grows catches up from the stream', async () => {
    const writes = Math.round(10_000 * SCALE);
    await fleet.kill9(1, 0);
    for (let start = 0; start < writes; start += 100) {
      const ids = Array.from({ length: Math.min(100, writes - start) }, (_, i) => `late-${start + i}`);
      await coll.upsert({ ids, vectors: vectorsFor(ids), payloads: ids.map(() => ({ metadata: { group: 'late' } })) });
    }
    const t0 = Date.now();
    await fleet.restart(1, 0);
    const { expected, states } = await waitConverged(fleet, nc, collection, 60_000);
    console.log(`catch-up: a replica stopped for ${writes} writes caught up in ${Date.now() - t0} ms (restart included): ${JSON.stringify(states[1])}`);
    expect(states[1]!.map((r) => r.writes)).toEqual([expected[1], expected[1]]);
    expect(states[1]![0]!.docs).toBe(states[1]![1]!.docs);
    // The caught-up replica answers alone: stop its peer and query with the session's position.
    await fleet.kill9(1, 1);
    const late = await coll.query({ vectors: vectorsFor(['late-0']), k: 1, filter: { must: [{ key: 'group', eq: 'late' }] }, options: { exact: true } });
    expect(late.partial).toBe(false);
    await fleet.restart(1, 1);
    await waitConverged(fleet, nc, collection, 60_000);
  }, 180_000);

  it('deletes by filter at one log position on every replica', async () => {
    const before = (await coll.describe()).count;
    const { deleted, seq } = await coll.delete({ filter: { must: [{ key: 'group', eq: 0 }] } });
    expect(deleted).toBe(-1);
    expect(seq).toBeGreaterThan(0);
    const { states } = await waitConverged(fleet, nc, collection, 30_000);
    const total = Math.round(4000 * SCALE);
    let group0 = 0;
    for (let i = 0; i < total; i++) if (i % 3 === 0) group0++;
    const after = states.map((rs) => rs[0]!.docs).reduce((a, b) => a + b, 0);
    expect(after).toBe(before - group0);
    for (const rs of states) for (const r of rs) expect(r.docs).toBe(rs[0]!.docs);
    // Read-your-writes after the delete: none of group 0 answers.
    const r = await coll.query({ vectors: vectorsFor(['doc-0']), k: 10, filter: { must: [{ key: 'group', eq: 0 }] }, options: { exact: true } });
    expect(r.ids).toEqual([]);
  }, 60_000);

  it('puts a collection in the catalog only once the shards accept its settings (inline codes on sq8: yes; on f32: no)', async () => {
    const open = (name: string) => new ShardedCollection({ shards: fleet.shardUrls(), collection: name, log: session.log, timeoutMs: 15_000 });
    const refused = open('docs.refused');
    await expect(refused.createCollection({ dim: DIM, metric: 'l2', kind: 'hnsw', storage: 'f32', params: { inlineCodes: 1 } })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
    });
    await refused.close();
    const inline = open('docs.inline');
    const { info } = await inline.createCollection({ dim: DIM, metric: 'l2', kind: 'hnsw', storage: 'sq8', params: { inlineCodes: 1 } });
    expect(info.params).toEqual({ inlineCodes: 1 });
    // What the catalog lists: every member follows these.
    const listed = new Set<string>();
    const stop = new AbortController();
    const catalog = await FleetCatalog.open(nc);
    await catalog.watchCollections((name, spec) => void (spec ? listed.add(name) : listed.delete(name)), stop.signal);
    await expect.poll(() => listed.has('docs.inline'), { timeout: 10_000 }).toBe(true);
    stop.abort();
    expect(listed.has('docs.refused')).toBe(false);
    const ids = ['a', 'b', 'c'];
    await inline.upsert({ ids, vectors: vectorsFor(ids) });
    for (const url of fleet.shardUrls().flat()) {
      const c = new ShardClient(url, { timeoutMs: 5000 });
      expect((await c.request({ type: 'stats', collection: 'docs.inline' })).stats['index.inlineCodes']).toBe(true);
      await c.close();
    }
    expect((await inline.query({ vectors: vectorsFor(['b']), k: 1 })).ids).toEqual(['b']);
    await inline.drop();
    await inline.close();
  }, 60_000);
});
