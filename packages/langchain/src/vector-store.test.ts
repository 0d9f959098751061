import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Document } from '@langchain/core/documents';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { RunnablePassthrough, RunnableSequence } from '@langchain/core/runnables';
import { FakeChatModel, SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { closeEmbeddedStores } from '@ragwire/client';
import { RagwireVectorStore } from './vector-store';
import { toRagwireFilter } from './filter';

const dir = mkdtempSync(join(tmpdir(), 'ragwire-langchain-'));
const embeddings = new SyntheticEmbeddings({ vectorSize: 24 });

afterAll(async () => {
  await closeEmbeddedStores();
  rmSync(dir, { recursive: true, force: true });
});

describe('toRagwireFilter', () => {
  it('turns plain equality objects into must conditions', () => {
    expect(toRagwireFilter({ source: 'a.md', page: 3, author: { name: 'Ada' }, tag: ['x', 'y'], gone: null })).toEqual({
      must: [
        { key: 'source', eq: 'a.md' },
        { key: 'page', eq: 3 },
        { key: 'author.name', eq: 'Ada' },
        { key: 'tag', in: ['x', 'y'] },
        { key: 'gone', exists: false },
      ],
    });
  });

  it('passes ragwire filters through, validated', () => {
    const f = { must: [{ key: 'n', range: { gte: 2 } }], must_not: [{ key: 'source', eq: 'b.md' }] };
    expect(toRagwireFilter(f)).toEqual(f);
    expect(() => toRagwireFilter({ must: [{ key: 'n', near: 2 }] })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_FILTER' }));
  });

  it('refuses function filters with a typed error, and treats {} as no filter', () => {
    expect(() => toRagwireFilter(() => true)).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_UNSUPPORTED_FILTER' }));
    expect(toRagwireFilter({})).toBeUndefined();
  });
});

describe('RagwireVectorStore (LangChain)', () => {
  it('fails at construction without a place to store documents', () => {
    expect(() => new RagwireVectorStore(embeddings, {})).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }));
    expect(() => new RagwireVectorStore(embeddings, { path: dir, shards: [['tcp://127.0.0.1:1']] })).toThrow(/exactly one/);
  });

  it('fromTexts stores text and metadata, honours document ids, and searches with filters', async () => {
    const store = await RagwireVectorStore.fromTexts(
      ['ragwire shards vectors', 'lmdb keeps payloads durable', 'hnsw graphs find neighbours'],
      [{ source: 'a.md' }, { source: 'b.md' }, { source: 'a.md' }],
      embeddings,
      { path: dir, collection: 'texts', exact: true },
    );
    const ids = await store.addDocuments([new Document({ id: 'mine', pageContent: 'a caller-chosen id', metadata: { source: 'c.md' } })]);
    expect(ids).toEqual(['mine']);
    const [hit] = await store.similaritySearchWithScore('a caller-chosen id', 1);
    const [doc, score] = hit!;
    expect(doc).toMatchObject({ id: 'mine', pageContent: 'a caller-chosen id', metadata: { source: 'c.md' } });
    expect(score).toBeCloseTo(1, 5);
    const fromA = await store.similaritySearch('vectors', 10, { source: 'a.md' });
    expect(fromA.map((d) => d.metadata.source)).toEqual(['a.md', 'a.md']);
    await store.delete({ filter: { source: 'a.md' } });
    expect((await store.similaritySearch('vectors', 10)).map((d) => d.metadata.source).sort()).toEqual(['b.md', 'c.md']);
    await store.delete({ ids: ['mine'] });
    expect(await store.similaritySearch('vectors', 10)).toHaveLength(1);
    await store.close();
    const again = await RagwireVectorStore.fromExistingCollection(embeddings, { path: dir, collection: 'texts' });
    expect((await again.similaritySearch('payloads', 1))[0]!.pageContent).toBe('lmdb keeps payloads durable');
    await again.close();
    await expect(RagwireVectorStore.fromExistingCollection(embeddings, { path: dir, collection: 'absent' })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_UNKNOWN_COLLECTION',
    });
  });

  it('checks efSearch and batchSize at construction, and k where it enters, against the protocol limits', async () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return undefined;
    };
    expect(codeOf(() => new RagwireVectorStore(embeddings, { path: dir, efSearch: 0 }))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => new RagwireVectorStore(embeddings, { path: dir, efSearch: 10_001 }))).toBe('RAGWIRE_ERR_LIMIT');
    expect(codeOf(() => new RagwireVectorStore(embeddings, { path: dir, batchSize: 2.5 }))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => new RagwireVectorStore(embeddings, { path: dir, batchSize: 16_385 }))).toBe('RAGWIRE_ERR_LIMIT');
    const store = new RagwireVectorStore(embeddings, { path: dir, collection: 'limits', efSearch: 10_000 });
    expect(codeOf(() => store.asRetriever(0))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => store.asRetriever({ k: 10_001 }))).toBe('RAGWIRE_ERR_LIMIT');
    expect(codeOf(() => store.asRetriever({ searchType: 'hybrid', k: 10_001 }))).toBe('RAGWIRE_ERR_LIMIT');
    await expect(store.similaritySearch('x', 10_001)).rejects.toMatchObject({ code: 'RAGWIRE_ERR_LIMIT' });
    await expect(store.similaritySearch('x', 0)).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' });
    await expect(store.maxMarginalRelevanceSearch('x', { k: 2, fetchK: 10_001 })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_LIMIT' });
    await store.close();
  });

  it('takes a ShardedCollection from a second copy of @ragwire/client as its client', async () => {
    // The query makes the module loader evaluate the file again: another ShardedCollection class.
    const second = (await import(
      new URL('../../client/src/sharded-collection.ts?second-copy', import.meta.url).href
    )) as typeof import('../../client/src/sharded-collection');
    const client = new second.ShardedCollection({ shards: [[`embedded://${encodeURI(dir)}`]], collection: 'second-copy' });
    const store = new RagwireVectorStore(embeddings, { client });
    expect(store.collection).toBe(client);
    await store.addDocuments([new Document({ id: 'one', pageContent: 'from the second copy' })]);
    expect((await store.similaritySearch('from the second copy', 1))[0]).toMatchObject({ id: 'one' });
    await store.close();
    expect((await client.describe()).count).toBe(1);
    await client.close();
  });

  it('answers an empty search before anything was added', async () => {
    const store = new RagwireVectorStore(embeddings, { path: dir, collection: 'empty' });
    expect(await store.similaritySearch('anything', 3)).toEqual([]);
    await store.close();
  });

  it('serves an LCEL retrieval chain with a fake chat model, and an MMR retriever', async () => {
    const store = await RagwireVectorStore.fromDocuments(
      [
        new Document({ pageContent: 'ragwire answers queries from shard servers', metadata: { source: 'guide.md' } }),
        new Document({ pageContent: 'the proxy batches embedding requests', metadata: { source: 'proxy.md' } }),
      ],
      embeddings,
      { path: dir, collection: 'chain', exact: true },
    );
    const retriever = store.asRetriever(1);
    const prompt = ChatPromptTemplate.fromMessages([['human', 'Context: {context}\nQuestion: {question}']]);
    const chain = RunnableSequence.from([
      { context: retriever.pipe((docs) => docs.map((d) => d.pageContent).join('\n')), question: new RunnablePassthrough() },
      prompt,
      new FakeChatModel({}),
      new StringOutputParser(),
    ]);
    // FakeChatModel answers with the prompt it was given: the retrieved context shows in the answer.
    const answer = await chain.invoke('the proxy batches embedding requests');
    expect(answer).toContain('Context: the proxy batches embedding requests');
    const mmr = await store.asRetriever({ searchType: 'mmr', k: 2, searchKwargs: { fetchK: 2, lambda: 0.5 } }).invoke('proxy');
    expect(mmr.map((d) => d.metadata.source).sort()).toEqual(['guide.md', 'proxy.md']);
    await store.close();
  });
});
