// Issue 3 §5: 3 shard servers vs one embedded store over the same 100k documents, exact top-10 equal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardedCollection, closeEmbeddedStores } from '@ragwire/client';
import { gaussianMixture } from '@ragwire/datasets';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const N = 100_000;
const DIM = 32;
const QUERIES = 200;
const K = 10;
const BATCH = 5000;

describe('3 shard servers vs one embedded store', () => {
  const dirs = [tempDir('shard0'), tempDir('shard1'), tempDir('shard2'), tempDir('embedded')];
  let shards: ShardProcess[] = [];
  let sharded: ShardedCollection;
  let embedded: ShardedCollection;
  const data = gaussianMixture({ n: N, nQueries: QUERIES, dim: DIM, clusters: 200, seed: 3 });
  const ids = Array.from({ length: N }, (_, i) => `doc-${i}`);

  beforeAll(async () => {
    shards = await Promise.all(dirs.slice(0, 3).map((d) => startShardProcess({ dataDir: d.path })));
    sharded = new ShardedCollection({ shards: shards.map((s) => [s.addresses[0]!]), collection: 'docs', timeoutMs: 60_000 });
    embedded = new ShardedCollection({ shards: [[`embedded://${dirs[3]!.path}`]], collection: 'docs', timeoutMs: 60_000 });
    const spec = { dim: DIM, metric: 'l2', kind: 'flat', storage: 'f32' } as const;
    await Promise.all([sharded.createCollection(spec), embedded.createCollection(spec)]);
    for (let start = 0; start < N; start += BATCH) {
      const end = Math.min(N, start + BATCH);
      const batch = {
        ids: ids.slice(start, end),
        vectors: data.base.subarray(start * DIM, end * DIM),
        payloads: ids.slice(start, end).map((id, j) => ({ text: id, metadata: { i: start + j } })),
      };
      await Promise.all([sharded.upsert(batch), embedded.upsert(batch)]);
    }
  });

  afterAll(async () => {
    await sharded?.close();
    await embedded?.close();
    await closeEmbeddedStores();
    await Promise.all(shards.map((s) => s.stop()));
    killAll();
    for (const d of dirs) d.cleanup();
  });

  it('holds every document, spread over the shards', async () => {
    expect((await sharded.describe()).count).toBe(N);
    expect((await embedded.describe()).count).toBe(N);
    const perShard = (await sharded.stats()).map((s) => s.docs as number);
    for (const n of perShard) expect(n).toBeGreaterThan(N / 3 - N / 30);
  });

  it("answers every query's exact top-10 exactly as the single store does", async () => {
    const q = { vectors: data.queries, k: K, options: { exact: true } };
    const [a, b] = await Promise.all([sharded.query(q), embedded.query(q)]);
    expect(a.partial).toBe(false);
    expect([...a.counts]).toEqual(new Array(QUERIES).fill(K));
    expect([...b.counts]).toEqual(new Array(QUERIES).fill(K));
    expect([...a.scores]).toEqual([...b.scores]);
    let differingIds = 0;
    for (let i = 0; i < a.ids.length; i++) {
      if (a.ids[i] === b.ids[i]) continue;
      // Only an exact score tie may order two documents differently.
      const tied = a.scores[i] === a.scores[i + 1] || a.scores[i] === a.scores[i - 1];
      expect(tied, `query ${Math.floor(i / K)} rank ${i % K}: ${a.ids[i]} vs ${b.ids[i]}`).toBe(true);
      differingIds++;
    }
    expect(differingIds).toBe(0);
  });

  it('returns the same payloads', async () => {
    const q = { vectors: data.queries.subarray(0, 5 * DIM), k: K, options: { exact: true, withPayload: true } };
    const [a, b] = await Promise.all([sharded.query(q), embedded.query(q)]);
    expect(a.payloads).toEqual(b.payloads);
    a.ids.forEach((id, i) => expect(a.payloads![i]).toEqual({ text: id, metadata: { i: Number(id.slice(4)) } }));
  });
});
