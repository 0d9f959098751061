// LangChain's own MemoryVectorStore tests, their cases in our words, on ragwire's default (HNSW)
// index: embedded, and over 2 shard server processes, with real LangChain classes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Document } from '@langchain/core/documents';
import { SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { closeEmbeddedStores, type CollectionTarget } from '@ragwire/client';
import { RagwireVectorStore } from '@ragwire/langchain';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const embeddings = new SyntheticEmbeddings({ vectorSize: 24 });
const dirs = [tempDir('memory-cases-embedded'), tempDir('memory-cases-shard0'), tempDir('memory-cases-shard1')];
let shards: ShardProcess[] = [];

beforeAll(async () => {
  shards = await Promise.all(dirs.slice(1).map((d) => startShardProcess({ dataDir: d.path })));
});

afterAll(async () => {
  await closeEmbeddedStores();
  await Promise.all(shards.map((s) => s.stop()));
  killAll();
  for (const d of dirs) d.cleanup();
});

const DEPLOYMENTS: [string, (collection: string) => CollectionTarget][] = [
  ['embedded', (collection) => ({ path: dirs[0]!.path, collection })],
  ['over 2 shard servers', (collection) => ({ shards: shards.map((s) => [s.addresses[0]!]), collection })],
];

const DOCS = [
  new Document({ pageContent: 'Vitamin B12 deficiency raises homocysteine in the blood', metadata: { n: 0, topic: 'nutrition' } }),
  new Document({ pageContent: 'Running every day improves the heart', metadata: { n: 1, topic: 'sport' } }),
  new Document({ pageContent: 'Folate lowers homocysteine', metadata: { n: 2, topic: 'nutrition' } }),
  new Document({ pageContent: 'Stem cells differentiate into neurons', metadata: { n: 3, topic: 'biology' } }),
  new Document({ pageContent: 'Cyclists train their hearts on long rides', metadata: { n: 4, topic: 'sport' } }),
  new Document({ pageContent: 'Deficiencies of vitamins are common in old age', metadata: { n: 5, topic: 'nutrition' } }),
];

describe.each(DEPLOYMENTS)("MemoryVectorStore's cases on RagwireVectorStore (HNSW), %s", (_name, target) => {
  let n = 0;
  const fresh = () => new RagwireVectorStore(embeddings, target(`memory_cases_${n++}`));

  it('stores documents under external ids and returns those ids', async () => {
    const store = fresh();
    const ids = await store.addDocuments(DOCS.slice(0, 3), { ids: ['a', 'b', 'c'] });
    expect(ids).toEqual(['a', 'b', 'c']);
    const hits = await store.similaritySearch(DOCS[1]!.pageContent, 1);
    expect(hits[0]!.id).toBe('b');
    await store.close();
  });

  it("keeps a document's own id when none is given", async () => {
    const store = fresh();
    await store.addDocuments([new Document({ id: 'own-id', pageContent: 'hello there', metadata: {} })]);
    expect((await store.similaritySearch('hello there', 1))[0]!.id).toBe('own-id');
    await store.close();
  });

  it('returns results sorted by descending similarity', async () => {
    const store = fresh();
    await store.addDocuments(DOCS);
    const scores = (await store.similaritySearchWithScore('heart training', 6)).map(([, s]) => s);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    await store.close();
  });

  it('filters through a retriever, with a function as MemoryVectorStore takes it', async () => {
    const store = fresh();
    await store.addDocuments(DOCS);
    const retriever = store.asRetriever({ k: 3, filter: (doc: Document) => doc.metadata.topic === 'sport' });
    const docs = await retriever.invoke('heart');
    expect(docs.map((d) => d.metadata.n).sort()).toEqual([1, 4]);
    await store.close();
  });

  it('picks diverse documents by maximal marginal relevance', async () => {
    const store = fresh();
    await store.addDocuments([...DOCS, new Document({ pageContent: DOCS[0]!.pageContent, metadata: { n: 6, topic: 'copy' } })]);
    const mmr = await store.maxMarginalRelevanceSearch(DOCS[0]!.pageContent, { k: 2, fetchK: 7, lambda: 0.1 });
    expect(mmr).toHaveLength(2);
    // The exact copy is as relevant as the original but adds nothing: MMR does not take both.
    expect(mmr.map((d) => d.metadata.n).sort()).not.toEqual([0, 6]);
    await store.close();
  });
});
