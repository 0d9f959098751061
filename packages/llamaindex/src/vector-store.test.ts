import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseEmbedding } from '@llamaindex/core/embeddings';
import { MockLLM } from '@llamaindex/core/llms/mock';
import { Document, MetadataMode, NodeRelationship, TextNode } from '@llamaindex/core/schema';
import { VectorStoreQueryMode } from '@llamaindex/core/vector-store';
import { Settings, VectorStoreIndex, storageContextFromDefaults } from 'llamaindex';
import { closeEmbeddedStores } from '@ragwire/client';
import { RagwireVectorStore } from './vector-store';

/** A deterministic embedding: character-trigram counts hashed into 32 buckets. */
class TrigramEmbedding extends BaseEmbedding {
  constructor() {
    super();
  }
  async getTextEmbedding(text: string): Promise<number[]> {
    const v = new Array<number>(32).fill(0);
    const t = ` ${text.toLowerCase()} `;
    for (let i = 0; i + 3 <= t.length; i++) {
      let h = 7;
      for (let j = i; j < i + 3; j++) h = (h * 31 + t.charCodeAt(j)) >>> 0;
      v[h % 32]! += 1;
    }
    return v;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ragwire-llamaindex-'));
const embedModel = new TrigramEmbedding();

beforeAll(() => {
  Settings.embedModel = embedModel;
  Settings.llm = new MockLLM({ responseMessage: 'mock answer' });
});

afterAll(async () => {
  await closeEmbeddedStores();
  rmSync(dir, { recursive: true, force: true });
});

const documents = [
  new Document({ id_: 'guide', text: 'ragwire answers vector queries from shard servers', metadata: { source: 'guide.md', year: 2024 } }),
  new Document({ id_: 'proxy', text: 'the proxy batches embedding requests for vLLM', metadata: { source: 'proxy.md', year: 2025 } }),
  new Document({ id_: 'store', text: 'lmdb keeps every payload durable across restarts', metadata: { source: 'store.md', year: 2026 } }),
];

describe('RagwireVectorStore (LlamaIndex)', () => {
  it('fails at construction without a place to store nodes', () => {
    expect(() => new RagwireVectorStore({ embedModel })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }));
  });

  it('checks efSearch and batchSize at construction, and similarityTopK at query, against the protocol limits', async () => {
    expect(() => new RagwireVectorStore({ path: dir, efSearch: -1, embedModel })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }));
    expect(() => new RagwireVectorStore({ path: dir, efSearch: 10_001, embedModel })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_LIMIT' }));
    expect(() => new RagwireVectorStore({ path: dir, batchSize: 0, embedModel })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }));
    expect(() => new RagwireVectorStore({ path: dir, batchSize: 16_385, embedModel })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_LIMIT' }));
    const store = new RagwireVectorStore({ path: dir, collection: 'limits', efSearch: 10_000, embedModel });
    await expect(store.query({ queryEmbedding: [1, 0], similarityTopK: 10_001, mode: VectorStoreQueryMode.DEFAULT })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_LIMIT',
    });
    await expect(store.query({ queryEmbedding: [1, 0], similarityTopK: 1.5, mode: VectorStoreQueryMode.DEFAULT })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
      message: 'similarityTopK must be an integer of at least 1, got 1.5',
    });
    await store.close();
  });

  it('takes a ShardedCollection from a second copy of @ragwire/client as its client', async () => {
    // The query makes the module loader evaluate the file again: another ShardedCollection class.
    const second = (await import(
      new URL('../../client/src/sharded-collection.ts?second-copy', import.meta.url).href
    )) as typeof import('../../client/src/sharded-collection');
    const client = new second.ShardedCollection({ shards: [[`embedded://${encodeURI(dir)}`]], collection: 'second-copy' });
    const store = new RagwireVectorStore({ client, embedModel });
    expect(store.client()).toBe(client);
    await store.add([new TextNode({ id_: 'one', text: 'from the second copy', embedding: [0, 1, 0] })]);
    const r = await store.query({ queryEmbedding: [0, 1, 0], similarityTopK: 1, mode: VectorStoreQueryMode.DEFAULT });
    expect(r.ids).toEqual(['one']);
    await store.close();
    expect((await client.describe()).count).toBe(1);
    await client.close();
  });

  it('keeps node ids, ref_doc_id, text and metadata; deletes a whole document', async () => {
    const store = new RagwireVectorStore({ path: dir, collection: 'nodes', exact: true, embedModel });
    const nodes = ['alpha beta', 'gamma delta', 'epsilon'].map(
      (text, i) =>
        new TextNode({
          id_: `n${i}`,
          text,
          metadata: { i, tags: ['t'] },
          embedding: [1, i, 0, 0],
          relationships: { [NodeRelationship.SOURCE]: { nodeId: i < 2 ? 'docA' : 'docB', metadata: {} } },
        }),
    );
    expect(await store.add(nodes)).toEqual(['n0', 'n1', 'n2']);
    const r = await store.query({ queryEmbedding: [1, 1, 0, 0], similarityTopK: 3, mode: VectorStoreQueryMode.DEFAULT });
    expect(r.ids).toEqual(['n1', 'n2', 'n0']);
    const n1 = r.nodes![0] as TextNode;
    expect(n1).toBeInstanceOf(TextNode);
    expect(n1.id_).toBe('n1');
    expect(n1.getContent(MetadataMode.NONE)).toBe('gamma delta');
    expect(n1.metadata).toEqual({ i: 1, tags: ['t'] });
    expect(n1.sourceNode?.nodeId).toBe('docA');
    const onlyB = await store.query({ queryEmbedding: [1, 1, 0, 0], similarityTopK: 3, docIds: ['docB'], mode: VectorStoreQueryMode.DEFAULT });
    expect(onlyB.ids).toEqual(['n2']);
    await store.delete('docA');
    expect((await store.query({ queryEmbedding: [1, 1, 0, 0], similarityTopK: 3, mode: VectorStoreQueryMode.DEFAULT })).ids).toEqual(['n2']);
    await expect(store.query({ queryEmbedding: [1, 0, 0, 0], similarityTopK: 1, mode: VectorStoreQueryMode.SVM })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
    });
    await store.close();
  });

  it('works under VectorStoreIndex: fromDocuments, fromVectorStore, asRetriever, asQueryEngine', async () => {
    const vectorStore = new RagwireVectorStore({ path: dir, collection: 'index', exact: true });
    const storageContext = await storageContextFromDefaults({ vectorStore });
    const index = await VectorStoreIndex.fromDocuments(documents, { storageContext });
    const hits = await index.asRetriever({ similarityTopK: 1 }).retrieve({ query: 'which proxy batches embedding requests?' });
    expect(hits[0]!.node.metadata.source).toBe('proxy.md');
    expect(hits[0]!.node.getContent(MetadataMode.NONE)).toBe(documents[1]!.text);

    const reopened = await VectorStoreIndex.fromVectorStore(new RagwireVectorStore({ path: dir, collection: 'index', exact: true }));
    const filtered = await reopened
      .asRetriever({ similarityTopK: 3, filters: { filters: [{ key: 'year', value: 2025, operator: '>=' }] } })
      .retrieve({ query: 'which proxy batches embedding requests?' });
    expect(filtered.map((h) => h.node.metadata.source).sort()).toEqual(['proxy.md', 'store.md']);

    const response = await reopened.asQueryEngine({ similarityTopK: 2 }).query({ query: 'what keeps payloads durable?' });
    expect(response.toString()).toBe('mock answer');
    expect(response.sourceNodes?.[0]?.node.metadata.source).toBe('store.md');
    await vectorStore.close();
  });
});
