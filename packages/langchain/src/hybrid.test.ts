// LangChain hybrid search and function filters on a real embedded store with the default (HNSW)
// index and real LangChain classes (MemoryVectorStore's own cases: test/src/langchain-memory-cases.int.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Document } from '@langchain/core/documents';
import { SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { closeEmbeddedStores } from '@ragwire/client';
import { RagwireVectorStore } from './vector-store';

const dir = mkdtempSync(join(tmpdir(), 'ragwire-langchain-hybrid-'));
const embeddings = new SyntheticEmbeddings({ vectorSize: 24 });
let n = 0;
const fresh = (args: Partial<ConstructorParameters<typeof RagwireVectorStore>[1]> = {}) =>
  new RagwireVectorStore(embeddings, { path: dir, collection: `c${n++}`, text: { language: 'en', k1: 0.9, b: 0.4 }, ...args });

afterAll(async () => {
  await closeEmbeddedStores();
  rmSync(dir, { recursive: true, force: true });
});

const DOCS = [
  new Document({ pageContent: 'Vitamin B12 deficiency raises homocysteine in the blood', metadata: { n: 0, topic: 'nutrition' } }),
  new Document({ pageContent: 'Running every day improves the heart', metadata: { n: 1, topic: 'sport' } }),
  new Document({ pageContent: 'Folate lowers homocysteine', metadata: { n: 2, topic: 'nutrition' } }),
  new Document({ pageContent: 'Stem cells differentiate into neurons', metadata: { n: 3, topic: 'biology' } }),
  new Document({ pageContent: 'Cyclists train their hearts on long rides', metadata: { n: 4, topic: 'sport' } }),
  new Document({ pageContent: 'Deficiencies of vitamins are common in old age', metadata: { n: 5, topic: 'nutrition' } }),
];

describe('RagwireVectorStore hybrid search', () => {
  it('finds by words what synthetic embeddings cannot: BM25 fused with the dense search', async () => {
    const store = fresh();
    await store.addDocuments(DOCS);
    // alpha 0: the text side alone (min-max normalised: its best scores 1).
    const weighted = await store.hybridSearchWithScore('folate homocysteine', 1, { fusion: 'weighted', alpha: 0 });
    expect(weighted.map(([d, s]) => [d.metadata.n, s])).toEqual([[2, 1]]);
    const rrf = await store.hybridSearch('vitamin deficiencies', 3);
    expect(
      rrf
        .slice(0, 2)
        .map((d) => d.metadata.n)
        .sort(),
    ).toEqual([0, 5]);
    const filtered = await store.hybridSearch('homocysteine', 3, { filter: { topic: 'nutrition' }, fusion: 'dbsf' });
    expect(filtered.every((d) => d.metadata.topic === 'nutrition')).toBe(true);
    await store.close();
  });

  it('says when a function filter has no declarative equivalent', async () => {
    const store = fresh({ exact: true });
    await store.addDocuments(DOCS);
    const warned: unknown[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warned.push(args);
    try {
      const wanted = new Set(['sport']);
      const docs = await store.similaritySearch('hearts', 4, (doc: Document) => wanted.has(doc.metadata.topic));
      expect(docs.map((d) => d.metadata.n).sort()).toEqual([1, 4]);
    } finally {
      console.warn = warn;
    }
    expect(warned).toHaveLength(1);
    expect(String((warned[0] as unknown[])[0])).toContain('No declarative equivalent found');
    await store.close();
  });

  it("asRetriever({ searchType: 'hybrid' }) retrieves by hybridSearch", async () => {
    const store = fresh();
    await store.addDocuments(DOCS);
    const retriever = store.asRetriever({ searchType: 'hybrid', k: 2, hybrid: { fusion: 'weighted', alpha: 0.2 } });
    const docs = await retriever.invoke('cells and neurons');
    expect(docs[0]!.metadata.n).toBe(3);
    expect(docs).toHaveLength(2);
    await store.close();
  });

  it('accepts a function filter, as MemoryVectorStore does, fetching more until k pass', async () => {
    const store = fresh({ exact: true });
    const many = Array.from({ length: 300 }, (_, i) => new Document({ pageContent: `note ${i} about topic ${i % 10}`, metadata: { i, bucket: i % 10 } }));
    await store.addDocuments(many);
    const warned: unknown[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warned.push(args);
    try {
      const byFunction = await store.similaritySearchWithScore('note about topic 3', 5, (doc: Document) => doc.metadata.bucket === 7);
      const declarative = await store.similaritySearchWithScore('note about topic 3', 5, { bucket: 7 });
      expect(byFunction.map(([d]) => d.id)).toEqual(declarative.map(([d]) => d.id));
      expect(byFunction.map(([, s]) => s)).toEqual(declarative.map(([, s]) => s));
      await store.similaritySearch('x', 2, (doc: Document) => doc.metadata.i === 1);
      expect(warned).toHaveLength(1); // once per store
      expect(String((warned[0] as unknown[])[0])).toContain('{"must":[{"key":"bucket","eq":7}]}');
      // Rarer than k in the whole collection: everything that passes, no more.
      expect(await store.similaritySearch('note', 5, (doc: Document) => doc.metadata.i === 42)).toHaveLength(1);
    } finally {
      console.warn = warn;
    }
    await store.close();
  });
});
