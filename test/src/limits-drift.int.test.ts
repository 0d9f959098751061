// Issue 12 §1: each limit is written once (the protocol's limits table) and every layer refuses the
// same out-of-range input with the same code: the engine, the embedded store, a tcp shard server,
// and both adapters over each.
import { Document } from '@langchain/core/documents';
import { TextNode } from '@llamaindex/core/schema';
import { VectorStoreQueryMode } from '@llamaindex/core/vector-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardedCollection } from '@ragwire/client';
import { RagwireVectorStore as LangChainStore } from '@ragwire/langchain';
import { RagwireVectorStore as LlamaIndexStore } from '@ragwire/llamaindex';
import { createRequire } from 'node:module';
import { createIndex, nativeBinaryPath } from '@ragwire/native';
import { DEFAULT_LIMITS, INDEX_PARAM_RANGES, isRagwireError } from '@ragwire/protocol';
import { DIM as CORPUS_DIM } from './adapters/corpus';
import { HashEmbedding, HashEmbeddings } from './adapters/harness';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const DIM = CORPUS_DIM; // the harness embeddings' dimension
const LIMITS = DEFAULT_LIMITS;

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return isRagwireError(error) ? error.code : `not a RagwireError: ${String(error)}`;
  }
}

const vector = () => Float32Array.from({ length: DIM }, (_, i) => Math.cos(i));
const longId = 'x'.repeat(LIMITS.maxIdBytes + 1);
const hugePayload = { text: 'y'.repeat(LIMITS.maxPayloadBytes + 1) };

describe('one limit, one code, from every layer', () => {
  const dirs = [tempDir('drift-shard'), tempDir('drift-embedded')];
  let shard: ShardProcess;
  const layers: { name: string; urls: string[][]; collection: ShardedCollection }[] = [];

  beforeAll(async () => {
    shard = await startShardProcess({ dataDir: dirs[0]!.path });
    for (const [name, urls] of [
      ['embedded', [[`embedded://${dirs[1]!.path}`]]],
      ['tcp shard', [[shard.addresses[0]!]]],
    ] as const) {
      layers.push({ name, urls: urls.map((u) => [...u]), collection: new ShardedCollection({ shards: urls.map((u) => [...u]), collection: 'docs' }) });
    }
    for (const { collection } of layers) {
      await collection.createCollection({ dim: DIM, metric: 'cosine', kind: 'hnsw', storage: 'f32' });
      await collection.upsert({ ids: ['a'], vectors: vector() });
    }
  });

  afterAll(async () => {
    for (const { collection } of layers) await collection.close();
    await shard?.stop();
    killAll();
    for (const d of dirs) d.cleanup();
  });

  it('the engine', async () => {
    const index = createIndex({ dim: 4, metric: 'l2', kind: 'hnsw' });
    await index.add(Uint32Array.of(1), new Float32Array(4));
    const q = new Float32Array(4);
    expect(await codeOf(() => index.search(q, LIMITS.maxK + 1))).toBe('RAGWIRE_ERR_LIMIT');
    expect(await codeOf(() => index.search(q, 1, { efSearch: LIMITS.maxEfSearch + 1 }))).toBe('RAGWIRE_ERR_LIMIT');
    expect(await codeOf(() => createIndex({ dim: LIMITS.maxDim + 1, metric: 'l2' }))).toBe('RAGWIRE_ERR_LIMIT');
    expect(await codeOf(() => createIndex({ dim: 4, metric: 'l2', kind: 'hnsw', hnsw: { M: INDEX_PARAM_RANGES.M[1] + 1 } }))).toBe('RAGWIRE_ERR_LIMIT');
    expect(await codeOf(() => createIndex({ dim: 4, metric: 'l2', kind: 'hnsw', hnsw: { efConstruction: INDEX_PARAM_RANGES.efConstruction[1] + 1 } }))).toBe(
      'RAGWIRE_ERR_LIMIT',
    );
    expect(await codeOf(() => index.search(q, 0))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    index.close();
  });

  // The addon itself, under the TS checks (anyone can load the .node file): it was handed the same table
  // at initialize() and refuses the same input with the same code.
  it('the addon, called without the TS layer', async () => {
    createIndex({ dim: 4, metric: 'l2' }).close(); // loads and initialises the addon
    type RawIndex = {
      add(l: Uint32Array, v: Float32Array): Promise<void>;
      search(q: Float32Array, k: number, ef?: number, rerank?: number): Promise<unknown>;
      close(): void;
    };
    const addon = createRequire(import.meta.url)(nativeBinaryPath()) as { NativeIndex: new (config: Record<string, unknown>) => RawIndex };
    const make = (config: Record<string, unknown>) => new addon.NativeIndex({ dim: 4, metric: 'l2', kind: 'hnsw', storage: 'f32', ...config });
    const above = (name: keyof typeof INDEX_PARAM_RANGES) => INDEX_PARAM_RANGES[name][1] + 1;
    const below = (name: keyof typeof INDEX_PARAM_RANGES) => INDEX_PARAM_RANGES[name][0] - 1;
    const cases: [string, () => unknown, string][] = [
      ['dim above maxDim', () => make({ dim: LIMITS.maxDim + 1 }), 'RAGWIRE_ERR_LIMIT'],
      ['dim 0', () => make({ dim: 0 }), 'RAGWIRE_ERR_INVALID_ARGUMENT'],
      ['M above', () => make({ M: above('M') }), 'RAGWIRE_ERR_LIMIT'],
      ['M below', () => make({ M: below('M') }), 'RAGWIRE_ERR_INVALID_ARGUMENT'],
      ['efConstruction above', () => make({ efConstruction: above('efConstruction') }), 'RAGWIRE_ERR_LIMIT'],
      ['efSearch above', () => make({ efSearch: above('efSearch') }), 'RAGWIRE_ERR_LIMIT'],
      ['rerankFactor above', () => make({ kind: 'bq', rerankFactor: above('rerankFactor') }), 'RAGWIRE_ERR_LIMIT'],
    ];
    for (const [what, run, code] of cases) expect(await codeOf(run), what).toBe(code);
    const index = make({});
    await index.add(Uint32Array.of(1), new Float32Array(4));
    const q = new Float32Array(4);
    expect(await codeOf(() => index.search(q, LIMITS.maxK + 1)), 'k above maxK').toBe('RAGWIRE_ERR_LIMIT');
    expect(await codeOf(() => index.search(q, 0)), 'k 0').toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(await codeOf(() => index.search(q, 1, LIMITS.maxEfSearch + 1)), 'efSearch above').toBe('RAGWIRE_ERR_LIMIT');
    expect(await codeOf(() => index.search(q, 1, undefined, above('rerankFactor'))), 'rerankFactor above').toBe('RAGWIRE_ERR_LIMIT');
    expect(await codeOf(() => index.search(q, LIMITS.maxK)), 'k at maxK').toBe('ok');
    index.close();
  });

  it('the embedded store and a tcp shard server, through ShardedCollection', async () => {
    for (const { name, urls, collection } of layers) {
      const expectCode = async (run: () => unknown, code: string, what: string) => expect(await codeOf(run), `${name}: ${what}`).toBe(code);
      await expectCode(() => collection.upsert({ ids: [longId], vectors: vector() }), 'RAGWIRE_ERR_LIMIT', 'id length');
      await expectCode(() => collection.upsert({ ids: ['p'], vectors: vector(), payloads: [hugePayload] }), 'RAGWIRE_ERR_LIMIT', 'payload size');
      await expectCode(() => collection.query({ vectors: vector(), k: LIMITS.maxK + 1 }), 'RAGWIRE_ERR_LIMIT', 'k');
      await expectCode(() => collection.query({ vectors: vector(), k: 1, options: { efSearch: LIMITS.maxEfSearch + 1 } }), 'RAGWIRE_ERR_LIMIT', 'efSearch');
      await expectCode(() => collection.query({ vectors: vector(), k: 0 }), 'RAGWIRE_ERR_INVALID_ARGUMENT', 'k = 0');
      const fresh = new ShardedCollection({ shards: urls, collection: 'other' });
      await expectCode(() => fresh.createCollection({ dim: LIMITS.maxDim + 1, metric: 'l2', kind: 'flat', storage: 'f32' }), 'RAGWIRE_ERR_LIMIT', 'dim');
      await expectCode(
        () => fresh.createCollection({ dim: 4, metric: 'l2', kind: 'hnsw', storage: 'f32', params: { M: INDEX_PARAM_RANGES.M[1] + 1 } }),
        'RAGWIRE_ERR_LIMIT',
        'M',
      );
      await expectCode(
        () =>
          fresh.createCollection({ dim: 4, metric: 'l2', kind: 'hnsw', storage: 'f32', params: { efConstruction: INDEX_PARAM_RANGES.efConstruction[1] + 1 } }),
        'RAGWIRE_ERR_LIMIT',
        'efConstruction',
      );
      await fresh.close();
    }
  });

  it('both adapters, over each', async () => {
    for (const { name, collection } of layers) {
      const lc = new LangChainStore(new HashEmbeddings(), { client: collection });
      expect(await codeOf(() => lc.addDocuments([new Document({ id: longId, pageContent: 'x' })])), `${name}: LangChain id`).toBe('RAGWIRE_ERR_LIMIT');
      expect(await codeOf(() => lc.similaritySearch('x', LIMITS.maxK + 1)), `${name}: LangChain k`).toBe('RAGWIRE_ERR_LIMIT');
      const li = new LlamaIndexStore({ client: collection, embedModel: new HashEmbedding() });
      expect(await codeOf(() => li.add([new TextNode({ id_: longId, text: 'x', embedding: Array.from(vector()) })])), `${name}: LlamaIndex id`).toBe(
        'RAGWIRE_ERR_LIMIT',
      );
      expect(
        await codeOf(() => li.query({ queryEmbedding: Array.from(vector()), similarityTopK: LIMITS.maxK + 1, mode: VectorStoreQueryMode.DEFAULT })),
        `${name}: LlamaIndex k`,
      ).toBe('RAGWIRE_ERR_LIMIT');
    }
  });
});
