// Issue 16 §5: learned sparse vectors through both adapters, embedded and over 2 shard servers (real
// child processes). A small deterministic encoder stands in for SPLADE: words to hashed term ids,
// with a synonym folded onto one id, which BM25 cannot do. Sparse-only results equal the store's
// sparse query; hybrid results equal the store's dense + BM25 + sparse query, and the two
// deployments agree.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Document } from '@langchain/core/documents';
import { SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { TextNode } from '@llamaindex/core/schema';
import { VectorStoreQueryMode } from '@llamaindex/core/vector-store';
import { closeEmbeddedStores, fnv1a64, type CollectionTarget, type ShardedResult, type SparseEncoder, type SparseWeights } from '@ragwire/client';
import { RagwireVectorStore as LangChainStore } from '@ragwire/langchain';
import { RagwireVectorStore as LlamaIndexStore } from '@ragwire/llamaindex';
import { HashEmbedding } from './adapters/harness';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const SYNONYMS: Record<string, string> = { automobile: 'car', vehicle: 'car', physician: 'doctor' };

/** Term weights of a text: each word (synonyms folded) hashed to 2^20 ids, weighing count x (1 + length / 10). */
function encode(text: string): SparseWeights {
  const w = new Map<number, number>();
  for (const raw of text.toLowerCase().split(/[^a-z]+/)) {
    if (raw.length < 3) continue;
    const word = SYNONYMS[raw] ?? raw;
    const id = fnv1a64(word)[1] & 0xfffff;
    w.set(id, (w.get(id) ?? 0) + 1 + word.length / 10);
  }
  // Unsorted on purpose: the adapters sort.
  return { indices: [...w.keys()].reverse(), values: [...w.values()].reverse() };
}

const sparseEncoder: SparseEncoder = {
  embedDocuments: async (texts) => texts.map(encode),
  embedQuery: (text) => encode(text),
};

const TEXTS = [
  'The car would not start on a cold morning',
  'A doctor explains how vaccines train the immune system',
  'Cyclists train their hearts on long rides',
  'Repairing an old engine takes patience and spare parts',
  'The nurse and the physician worked through the night',
  'Electric cars charge overnight in the garage',
  'Folate lowers homocysteine in the blood',
  'Stem cells differentiate into neurons',
];
const QUERIES = ['automobile repair', 'physician on call', 'train hearts'];
const K = 4;
const embeddings = new SyntheticEmbeddings({ vectorSize: 16 });
const none = new Float32Array(0);

const dirs = [tempDir('sparse-embedded'), tempDir('sparse-shard0'), tempDir('sparse-shard1')];
let shards: ShardProcess[] = [];
const deployments: [string, (collection: string) => CollectionTarget][] = [
  ['embedded', (collection) => ({ path: dirs[0]!.path, collection })],
  ['2 shard servers', (collection) => ({ shards: shards.map((s) => [s.addresses[0]!]), collection })],
];
/** What each deployment answered, by test and query: the deployments must agree. */
const answers = new Map<string, unknown>();

beforeAll(async () => {
  shards = await Promise.all(dirs.slice(1).map((d) => startShardProcess({ dataDir: d.path })));
});

afterAll(async () => {
  await closeEmbeddedStores();
  await Promise.all(shards.map((s) => s.stop()));
  killAll();
  for (const d of dirs) d.cleanup();
});

const pairs = (r: ShardedResult) => r.ids.map((id, i) => [id, r.scores[i]]);

function agree(key: string, value: unknown): void {
  if (answers.has(key)) expect(value, key).toEqual(answers.get(key));
  else answers.set(key, value);
}

for (const [where, target] of deployments) {
  describe(`learned sparse vectors through the adapters (${where})`, () => {
    it('LangChain: sparseSearch equals the store sparse query; hybridSearch adds the sparse branch', async () => {
      const store = new LangChainStore(embeddings, { ...target('lc'), kind: 'flat', sparseEmbeddings: sparseEncoder });
      await store.addDocuments(TEXTS.map((t, i) => new Document({ id: `d${i}`, pageContent: t, metadata: { n: i } })));
      for (const query of QUERIES) {
        const sparse = await store.sparseSearchWithScore(query, K);
        const direct = await store.collection.query({ vectors: none, k: K, sparse: [toStore(encode(query))] });
        expect(sparse.map(([d, s]) => [d.id, s])).toEqual(pairs(direct));
        agree(`lc sparse ${query}`, pairs(direct));

        const hybrid = await store.hybridSearchWithScore(query, K);
        const vector = Float32Array.from(await embeddings.embedQuery(query));
        const three = await store.collection.query({ vectors: vector, k: K, text: [query], sparse: [toStore(encode(query))], fusion: { method: 'rrf' } });
        const two = await store.collection.query({ vectors: vector, k: K, text: [query], fusion: { method: 'rrf' } });
        expect(hybrid.map(([d, s]) => [d.id, s])).toEqual(pairs(three));
        expect([...three.scores]).not.toEqual([...two.scores]);
        agree(`lc hybrid ${query}`, pairs(three));
      }
      // The synonym: 'automobile' finds the car by its sparse vector, where BM25 finds nothing.
      expect((await store.sparseSearch('automobile', 1))[0]!.id).toBe('d0');
      expect(await store.collection.query({ vectors: none, k: 1, text: ['automobile'] })).toMatchObject({ ids: [] });
      const retriever = store.asRetriever({ searchType: 'sparse', k: 2, filter: { n: 4 } });
      expect((await retriever.invoke('physician')).map((d) => d.id)).toEqual(['d4']);
      await store.close();
    });

    it('LangChain: sparseSearch without a sparse encoder is a typed error', async () => {
      const store = new LangChainStore(embeddings, target('lc-none'));
      await expect(store.sparseSearch('car', 2)).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' });
      expect(() => new LangChainStore(embeddings, { ...target('lc-bad'), sparseEmbeddings: {} as SparseEncoder })).toThrow(
        expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }),
      );
      await store.close();
    });

    it('LlamaIndex: SPARSE mode equals the store sparse query; HYBRID fuses dense, BM25 and sparse', async () => {
      const store = new LlamaIndexStore({ ...target('li'), kind: 'flat', embedModel: new HashEmbedding(), sparseEmbedModel: sparseEncoder });
      const vectors = await embeddings.embedDocuments(TEXTS);
      await store.add(TEXTS.map((text, i) => new TextNode({ id_: `n${i}`, text, embedding: vectors[i]! })));
      for (const query of QUERIES) {
        const sparse = await store.query({ queryStr: query, similarityTopK: K, mode: VectorStoreQueryMode.SPARSE });
        const direct = await store.collection.query({ vectors: none, k: K, sparse: [toStore(encode(query))] });
        expect(sparse.ids.map((id, i) => [id, sparse.similarities[i]])).toEqual(pairs(direct));
        agree(`li sparse ${query}`, pairs(direct));

        const queryEmbedding = await embeddings.embedQuery(query);
        const hybrid = await store.query({ queryStr: query, queryEmbedding, similarityTopK: K, mode: VectorStoreQueryMode.HYBRID, alpha: 0.3 });
        const three = await store.collection.query({
          vectors: Float32Array.from(queryEmbedding),
          k: K,
          text: [query],
          sparse: [toStore(encode(query))],
          fusion: { method: 'weighted', alpha: 0.3 },
        });
        expect(hybrid.ids.map((id, i) => [id, hybrid.similarities[i]])).toEqual(pairs(three));
        agree(`li hybrid ${query}`, pairs(three));
      }
      const car = await store.query({ queryStr: 'vehicle', similarityTopK: 1, mode: VectorStoreQueryMode.SPARSE });
      expect(car.nodes![0]!.id_).toBe('n0');
      await store.close();
    });
  });
}

/** The store's form of the encoder's output, built here independently of the adapters. */
function toStore(w: SparseWeights) {
  const order = Array.from({ length: w.indices.length }, (_, i) => i).sort((a, b) => w.indices[a]! - w.indices[b]!);
  return { indices: Uint32Array.from(order, (i) => w.indices[i]!), values: Float32Array.from(order, (i) => w.values[i]!) };
}
