// Issue 16 §3: text, sparse and hybrid queries over 3 shard servers (real child processes) answer
// exactly as one embedded store holding every document: same ids, scores, payloads and vectors. BM25 statistics are
// global (one STATS round trip), branches are merged then fused on the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardedCollection, closeEmbeddedStores, fnv1a64, type ShardedQuery, type ShardedResult } from '@ragwire/client';
import { loadScifact } from '@ragwire/datasets';
import type { Fusion, SparseVector } from '@ragwire/protocol';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const scifact = loadScifact();
const DOCS = 1500;
const QUERIES = 40;
const K = 10;

/** A document's sparse vector: its title's words, hashed to 2^16 indices, weighted by count. */
function titleSparse(title: string): SparseVector {
  const w = new Map<number, number>();
  for (const word of title.toLowerCase().split(/[^a-z0-9]+/))
    if (word.length > 2) {
      const ix = fnv1a64(word)[1] & 0xffff;
      w.set(ix, (w.get(ix) ?? 0) + 1);
    }
  const indices = Uint32Array.from([...w.keys()].sort((a, b) => a - b));
  return { indices, values: Float32Array.from(indices, (ix) => w.get(ix)!) };
}

function expectSame(a: ShardedResult, b: ShardedResult, what: string): void {
  expect(a.partial).toBe(false);
  expect([...a.counts], what).toEqual([...b.counts]);
  expect([...a.scores], what).toEqual([...b.scores]);
  for (let i = 0; i < a.ids.length; i++) {
    if (a.ids[i] === b.ids[i]) continue;
    // Only an exact score tie may order two documents differently.
    const tied = a.scores[i] === a.scores[i + 1] || a.scores[i] === a.scores[i - 1];
    expect(tied, `${what}: hit ${i}: ${a.ids[i]} vs ${b.ids[i]}`).toBe(true);
  }
}

describe.skipIf(scifact === null)('hybrid search: 3 shard servers vs one embedded store (SciFact)', () => {
  if (scifact === null) console.warn('skipped: ../shared/data/scifact is absent');
  const dirs = [tempDir('hy-shard0'), tempDir('hy-shard1'), tempDir('hy-shard2'), tempDir('hy-embedded')];
  let shards: ShardProcess[] = [];
  let sharded: ShardedCollection;
  let embedded: ShardedCollection;
  const dim = scifact?.dim ?? 1;
  const docs = scifact?.docs.slice(0, DOCS) ?? [];
  const queries = scifact?.queries.slice(0, QUERIES) ?? [];
  const queryVectors = scifact?.queryVectors.subarray(0, QUERIES * dim) ?? new Float32Array(0);

  beforeAll(async () => {
    shards = await Promise.all(dirs.slice(0, 3).map((d) => startShardProcess({ dataDir: d.path })));
    sharded = new ShardedCollection({ shards: shards.map((s) => [s.addresses[0]!]), collection: 'scifact', timeoutMs: 60_000 });
    embedded = new ShardedCollection({ shards: [[`embedded://${dirs[3]!.path}`]], collection: 'scifact', timeoutMs: 60_000 });
    const spec = { dim, metric: 'cosine', kind: 'flat', storage: 'f32', text: { language: 'en', k1: 0.9, b: 0.4 } } as const;
    await Promise.all([sharded.createCollection(spec), embedded.createCollection(spec)]);
    const batch = {
      ids: docs.map((d) => d.id),
      vectors: scifact!.docVectors.subarray(0, DOCS * dim),
      payloads: docs.map((d) => ({ text: `${d.title} ${d.text}`, metadata: { year: Number(d.id) % 7 } })),
      sparse: docs.map((d) => titleSparse(d.title)),
    };
    await Promise.all([sharded.upsert(batch), embedded.upsert(batch)]);
  });

  afterAll(async () => {
    await sharded?.close();
    await embedded?.close();
    await closeEmbeddedStores();
    await Promise.all(shards.map((s) => s.stop()));
    killAll();
    for (const d of dirs) d.cleanup();
  });

  const text = () => queries.map((q) => q.text);
  const sparse = () => queries.map((q) => titleSparse(q.text));
  const none = new Float32Array(0);

  it('spreads the documents over the shards, whose own BM25 statistics differ from the global ones', async () => {
    const perShard = (await sharded.stats()).map((s) => s.docs as number);
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(DOCS);
    for (const n of perShard) expect(n).toBeLessThan(DOCS);
    const global = await sharded.textStats(['homocysteine']);
    expect(global.docs).toBe(DOCS);
  });

  it('answers BM25 text queries with the single store ids and scores', async () => {
    const q: ShardedQuery = { vectors: none, k: K, text: text(), options: { withPayload: true, withVectors: true } };
    const [a, b] = await Promise.all([sharded.query(q), embedded.query(q)]);
    expect(a.ids.length).toBe(QUERIES * K);
    expectSame(a, b, 'bm25');
    expect(a.payloads).toEqual(b.payloads);
    expect(a.vectors).toEqual(b.vectors);
    expect(a.vectors!.length).toBe(QUERIES * K * dim);
  });

  it('answers sparse queries (dot product) with the single store ids and scores', async () => {
    const q: ShardedQuery = { vectors: none, k: K, sparse: sparse(), options: { withVectors: true } };
    const [a, b] = await Promise.all([sharded.query(q), embedded.query(q)]);
    expect(a.ids.length).toBeGreaterThan(QUERIES);
    expectSame(a, b, 'sparse');
    expect(a.vectors).toEqual(b.vectors);
  });

  const fusions: Fusion[] = [{ method: 'rrf' }, { method: 'rrf', k: 10 }, { method: 'dbsf' }, { method: 'weighted', alpha: 0.1 }];
  for (const fusion of fusions) {
    it(`answers hybrid (dense + BM25 + sparse, ${JSON.stringify(fusion)}) queries with the single store ids and scores`, async () => {
      const q: ShardedQuery = {
        vectors: queryVectors,
        k: K,
        text: text(),
        sparse: sparse(),
        fusion,
        prefetch: 50,
        options: { withPayload: true, withVectors: true },
      };
      const [a, b] = await Promise.all([sharded.query(q), embedded.query(q)]);
      expect(a.ids.length).toBe(QUERIES * K);
      expectSame(a, b, JSON.stringify(fusion));
      expect(a.payloads).toEqual(b.payloads);
      expect(a.vectors).toEqual(b.vectors);
      expect(a.vectors!.length).toBe(QUERIES * K * dim);
    });
  }

  it('answers a filtered hybrid query with the single store ids and scores', async () => {
    const q: ShardedQuery = {
      vectors: queryVectors,
      k: K,
      text: text(),
      fusion: { method: 'rrf' },
      filter: { must: [{ key: 'year', in: [1, 2, 3] }] },
      options: { withPayload: true, withVectors: true },
    };
    const [a, b] = await Promise.all([sharded.query(q), embedded.query(q)]);
    expectSame(a, b, 'filtered');
    expect(a.payloads).toEqual(b.payloads);
    expect(a.vectors).toEqual(b.vectors);
  });
});
