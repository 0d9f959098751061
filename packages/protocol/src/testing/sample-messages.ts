// One or more valid messages of every type, for round-trip tests and as the fuzzer's seed corpus.
import type { Message } from '../messages';

function vectors(n: number, dim: number, seed = 1): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(Math.sin(seed * 131 + i) * 0.5);
  return out;
}

export function sampleMessages(): Message[] {
  const info = { name: 'docs', dim: 8, metric: 'cosine', kind: 'hnsw', storage: 'f32', count: 12, params: { m: 16, efConstruction: 200 } } as const;
  return [
    { type: 'hello', versions: [1] },
    { type: 'hello', versions: [1, 2], token: 's3cret', client: '@ragwire/client/0.1.0' },
    { type: 'hello_ok', version: 1, server: 'ragwire-shard/0.1.0' },
    { type: 'hello_ok', version: 1, server: 'ragwire-shard/0.1.0', limits: { maxK: 1000, maxFrameBytes: 1 << 20 } },
    { type: 'extensions', names: ['trace'] },
    { type: 'extensions', names: ['trace', 'from-a-newer-client'] },
    { type: 'extensions_ok', names: [] },
    { type: 'extensions_ok', names: ['trace'] },
    { type: 'create', collection: 'docs', dim: 8, metric: 'cosine', kind: 'hnsw', storage: 'f32' },
    {
      type: 'create',
      collection: 'docs.en',
      dim: 8,
      metric: 'cosine',
      kind: 'hnsw',
      storage: 'f32',
      text: { language: 'en', k1: 0.9, b: 0.4, fields: ['title'] },
    },
    { type: 'create', collection: 'docs.v2', dim: 384, metric: 'l2', kind: 'flat', storage: 'sq8', params: { m: 32 }, ifNotExists: true },
    { type: 'create_ok', created: true, info: { ...info } },
    { type: 'drop', collection: 'docs' },
    { type: 'drop', collection: 'docs', ifExists: true },
    { type: 'drop_ok', dropped: false },
    { type: 'describe' },
    { type: 'describe', collection: 'docs' },
    { type: 'describe_ok', collections: [] },
    { type: 'describe_ok', collections: [{ ...info }, { name: 'b', dim: 3, metric: 'ip', kind: 'bq', storage: 'f16', count: 0 }] },
    { type: 'upsert', collection: 'docs', dim: 8, ids: ['a', 'b', 'c'], vectors: vectors(3, 8) },
    {
      type: 'upsert',
      collection: 'docs',
      dim: 3,
      ids: ['doc-1', 'doc-2', 'dóc-3'],
      vectors: vectors(3, 3, 2),
      payloads: [{ text: 'hello', metadata: { year: 2024, tags: ['a', 'b'], nested: { ok: true, x: null } } }, null, { text: '' }],
    },
    { type: 'upsert', collection: 'docs', dim: 4, ids: [], vectors: new Float32Array(0) },
    {
      type: 'upsert',
      collection: 'docs',
      dim: 2,
      ids: ['s1', 's2'],
      vectors: vectors(2, 2, 6),
      sparse: [{ indices: Uint32Array.from([1, 9]), values: Float32Array.from([0.5, -1]) }, null],
      payloads: [{ text: 'sparse one' }, null],
    },
    { type: 'upsert_ok', upserted: 3, seq: 42 },
    { type: 'delete', collection: 'docs', ids: ['a', 'b'] },
    { type: 'delete', collection: 'docs', filter: { must: [{ key: 'year', range: { gte: 2020, lt: 2025 } }], must_not: [{ key: 'draft', exists: true }] } },
    { type: 'delete_ok', deleted: 2, seq: 43 },
    { type: 'query', collection: 'docs', dim: 8, k: 10, vectors: vectors(1, 8, 3) },
    {
      type: 'query',
      collection: 'docs',
      dim: 4,
      k: 3,
      vectors: vectors(5, 4, 4),
      filter: {
        must: [{ key: 'lang', eq: 'en' }],
        should: [
          { key: 'tag', in: ['a', 1, true] },
          { key: 'score', range: { gt: 0.5 } },
        ],
      },
      options: { withPayload: true, efSearch: 128, exact: false },
    },
    // docs/protocol.md §5.7.1: text and hybrid queries.
    { type: 'query', collection: 'docs', dim: 0, k: 5, vectors: new Float32Array(0), text: ['blood homocysteine', ''] },
    {
      type: 'query',
      collection: 'docs',
      dim: 4,
      k: 3,
      vectors: vectors(1, 4, 5),
      text: ['vitamin b12'],
      sparse: [{ indices: Uint32Array.from([2, 7, 40]), values: Float32Array.from([0.5, 1.25, 2]) }],
      prefetch: 50,
      fusion: { method: 'weighted', alpha: 0.25 },
      textStats: { docs: 5183, tokens: 1_000_000, df: { vitamin: 30, b12: 4 } },
    },
    {
      type: 'query',
      collection: 'docs',
      dim: 0,
      k: 2,
      vectors: new Float32Array(0),
      sparse: [{ indices: new Uint32Array(0), values: new Float32Array(0) }],
      fusion: { method: 'rrf', k: 10 },
    },
    { type: 'result', k: 2, counts: new Uint32Array([2, 0, 1]), ids: ['a', 'b', 'c'], scores: new Float32Array([0.9, 0.8, 0.1]) },
    {
      type: 'result',
      k: 3,
      counts: new Uint32Array([3]),
      ids: ['x', 'y', 'z'],
      scores: new Float32Array([1, 0.5, -0.25]),
      payloads: [{ text: 'first', metadata: { page: 1 } }, null, { metadata: { page: 3 } }],
    },
    { type: 'stats' },
    { type: 'stats', collection: 'docs' },
    { type: 'stats', collection: 'docs', text: ['blood homocysteine'] },
    { type: 'stats_ok', stats: { docs: 12, 'index.bytes': 4096, isa: 'avx2', ready: true } },
    { type: 'snapshot' },
    { type: 'snapshot', collection: 'docs' },
    { type: 'snapshot_ok', snapshots: [{ collection: 'docs', seq: 43, bytes: 123456 }] },
    { type: 'error', code: 'RAGWIRE_ERR_UNKNOWN_COLLECTION', message: 'collection "nope" does not exist' },
  ];
}
