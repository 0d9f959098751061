// The conformance suite's view of an adapter: the same operations, spoken in each framework's own API.
import { Embeddings } from '@langchain/core/embeddings';
import { Document } from '@langchain/core/documents';
import { BaseEmbedding } from '@llamaindex/core/embeddings';
import { NodeRelationship, TextNode } from '@llamaindex/core/schema';
import { VectorStoreQueryMode, type MetadataFilters } from '@llamaindex/core/vector-store';
import type { CollectionTarget } from '@ragwire/client';
import { RagwireVectorStore as LangChainStore } from '@ragwire/langchain';
import { RagwireVectorStore as LlamaIndexStore } from '@ragwire/llamaindex';
import { embedText, type CorpusDoc } from './corpus';

/** LangChain Embeddings computing embedText. */
export class HashEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map(embedText);
  }
  async embedQuery(text: string): Promise<number[]> {
    return embedText(text);
  }
}

/** LlamaIndex BaseEmbedding computing embedText. */
export class HashEmbedding extends BaseEmbedding {
  constructor() {
    super();
  }
  async getTextEmbedding(text: string): Promise<number[]> {
    return embedText(text);
  }
}

export interface Hit {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
  score: number;
}

export interface AdapterHarness {
  add(docs: CorpusDoc[]): Promise<string[]>;
  search(query: string, k: number): Promise<Hit[]>;
  /** Documents whose metadata.source equals `source`. */
  searchSource(query: string, k: number, source: string): Promise<Hit[]>;
  /** Documents with n >= min and author.name == author. */
  searchRangeAndAuthor(query: string, k: number, min: number, author: string): Promise<Hit[]>;
  mmr(query: string, k: number, fetchK: number, lambda: number): Promise<Hit[]>;
  /** BM25 of the query's words fused with the dense search, weighted: dense weighs `alpha`. */
  hybrid(query: string, k: number, alpha: number): Promise<Hit[]>;
  deleteIds(ids: string[]): Promise<void>;
  /** Deletes every chunk of a source document. */
  deleteGroup(group: string): Promise<void>;
  close(): Promise<void>;
}

export type HarnessFactory = (target: CollectionTarget) => AdapterHarness;

export const langchainHarness: HarnessFactory = (target) => {
  const store = new LangChainStore(new HashEmbeddings(), { ...target, metric: 'cosine', kind: 'hnsw' });
  const hits = (r: [Document, number][]): Hit[] => r.map(([d, s]) => ({ id: d.id!, text: d.pageContent, metadata: d.metadata, score: s }));
  return {
    add: (docs) => store.addDocuments(docs.map((d) => new Document({ id: d.id, pageContent: d.text, metadata: { ...d.metadata, group: d.group } }))),
    search: async (q, k) => hits(await store.similaritySearchWithScore(q, k)),
    searchSource: async (q, k, source) => hits(await store.similaritySearchWithScore(q, k, { source })),
    searchRangeAndAuthor: async (q, k, min, author) =>
      hits(
        await store.similaritySearchWithScore(q, k, {
          must: [
            { key: 'n', range: { gte: min } },
            { key: 'author.name', eq: author },
          ],
        }),
      ),
    mmr: async (q, k, fetchK, lambda) => {
      const docs = await store.asRetriever({ searchType: 'mmr', k, searchKwargs: { fetchK, lambda } }).invoke(q);
      return docs.map((d) => ({ id: d.id!, text: d.pageContent, metadata: d.metadata, score: NaN }));
    },
    hybrid: async (q, k, alpha) => hits(await store.hybridSearchWithScore(q, k, { fusion: 'weighted', alpha })),
    deleteIds: (ids) => store.delete({ ids }),
    deleteGroup: (group) => store.delete({ filter: { group } }),
    close: () => store.close(),
  };
};

export const llamaindexHarness: HarnessFactory = (target) => {
  const store = new LlamaIndexStore({ ...target, metric: 'cosine', kind: 'hnsw', embedModel: new HashEmbedding() });
  const run = async (q: string, k: number, filters?: MetadataFilters, mmr?: { fetchK: number; lambda: number }, alpha?: number): Promise<Hit[]> => {
    const mode = mmr ? VectorStoreQueryMode.MMR : alpha !== undefined ? VectorStoreQueryMode.HYBRID : VectorStoreQueryMode.DEFAULT;
    const r = await store.query({
      queryEmbedding: embedText(q),
      similarityTopK: k,
      mode,
      ...(filters ? { filters } : {}),
      ...(mmr ? { mmrThreshold: mmr.lambda } : {}),
      ...(alpha !== undefined ? { queryStr: q, alpha } : {}),
    });
    return r.ids.map((id, i) => {
      const node = r.nodes![i] as TextNode;
      return { id, text: node.text, metadata: node.metadata, score: r.similarities[i]! };
    });
  };
  return {
    add: (docs) =>
      store.add(
        docs.map(
          (d) =>
            new TextNode({
              id_: d.id,
              text: d.text,
              metadata: { ...d.metadata },
              embedding: embedText(d.text),
              relationships: { [NodeRelationship.SOURCE]: { nodeId: d.group, metadata: {} } },
            }),
        ),
      ),
    search: (q, k) => run(q, k),
    searchSource: (q, k, source) => run(q, k, { filters: [{ key: 'source', value: source, operator: '==' }] }),
    searchRangeAndAuthor: (q, k, min, author) =>
      run(q, k, {
        filters: [
          { key: 'n', value: min, operator: '>=' },
          { key: 'author.name', value: author, operator: '==' },
        ],
        condition: 'and',
      }),
    mmr: (q, k, fetchK, lambda) => run(q, k, undefined, { fetchK, lambda }),
    hybrid: (q, k, alpha) => run(q, k, undefined, undefined, alpha),
    deleteIds: async (ids) => {
      await store.collection.delete({ ids });
    },
    deleteGroup: (group) => store.delete(group),
    close: () => store.close(),
  };
};
