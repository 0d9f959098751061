// RagwireVectorStore: LangChain's VectorStore over a ragwire collection (embedded or sharded).
import { randomUUID } from 'node:crypto';
import type { Callbacks } from '@langchain/core/callbacks/manager';
import { Document, type DocumentInterface } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { maximalMarginalRelevance } from '@langchain/core/utils/math';
import { VectorStore, type MaxMarginalRelevanceSearchOptions, type VectorStoreRetriever, type VectorStoreRetrieverInput } from '@langchain/core/vectorstores';
import {
  CollectionHandle,
  checkK,
  checkSparseEncoder,
  encodeSparseDocuments,
  encodeSparseQuery,
  type SparseEncoder,
  type CollectionHandleOptions,
  type ShardedCollection,
  type ShardedQuery,
  type ShardedResult,
} from '@ragwire/client';
import { InvalidArgumentError, type Filter, type Fusion, type Payload } from '@ragwire/protocol';
import { declarativeEquivalent, functionFilterAdvice, type FilterVerdict } from './function-filter';
import { isFunctionFilter, toRagwireFilter, type DocumentPredicate, type RagwireLangChainFilter } from './filter';
import { RagwireHybridRetriever, type HybridRetrieverInput, type HybridSearchOptions, type SparseSearchOptions } from './hybrid-retriever';

/**
 * Where the documents live (exactly one of `path`, `shards`, `client`; see CollectionTarget), how a
 * collection created on first write is indexed, and how searches run (exact, efSearch, batchSize;
 * see SearchSettings).
 */
export interface RagwireVectorStoreArgs extends CollectionHandleOptions {
  /**
   * A learned sparse encoder (SPLADE, bge-m3's lexical weights): with it, added documents carry
   * its sparse vector of their pageContent, hybridSearch adds a sparse branch of the query, and
   * sparseSearch ranks by it alone (docs/adapters.md).
   */
  sparseEmbeddings?: SparseEncoder;
}

/**
 * A LangChain vector store on ragwire. Text is stored as each document's `pageContent` and
 * metadata as its `metadata`; both round-trip. Scores are higher = more similar for every metric
 * (cosine: cosine similarity; ip: dot product; l2 and l1: the negated distance).
 */
export class RagwireVectorStore extends VectorStore {
  declare FilterType: RagwireLangChainFilter;
  /** The underlying ragwire collection. */
  readonly collection: ShardedCollection;
  private readonly handle: CollectionHandle;
  private readonly sparseEmbeddings: SparseEncoder | undefined;

  _vectorstoreType(): string {
    return 'ragwire';
  }

  constructor(embeddings: EmbeddingsInterface, args: RagwireVectorStoreArgs) {
    super(embeddings, args ?? {});
    this.sparseEmbeddings = args?.sparseEmbeddings === undefined ? undefined : checkSparseEncoder(args.sparseEmbeddings, 'sparseEmbeddings');
    this.handle = new CollectionHandle(args, 'RagwireVectorStore');
    this.collection = this.handle.collection;
  }

  /**
   * Stores documents with precomputed vectors (and, with `sparseEmbeddings`, the sparse vectors of
   * their pageContent). Ids: `options.ids`, else each document's `id`, else generated.
   */
  async addVectors(vectors: number[][], documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    if (vectors.length !== documents.length) throw new InvalidArgumentError(`got ${vectors.length} vectors for ${documents.length} documents`);
    if (options?.ids && options.ids.length !== documents.length)
      throw new InvalidArgumentError(`got ${options.ids.length} ids for ${documents.length} documents`);
    const ids = documents.map((d, i) => options?.ids?.[i] ?? d.id ?? randomUUID());
    const sparse = this.sparseEmbeddings
      ? await encodeSparseDocuments(
          this.sparseEmbeddings,
          documents.map((d) => d.pageContent),
        )
      : undefined;
    await this.handle.upsert(
      ids,
      vectors,
      documents.map((d): Payload => ({ text: d.pageContent, metadata: d.metadata ?? {} })),
      sparse,
    );
    return ids;
  }

  /** Embeds each document's pageContent with the store's embeddings and stores it. */
  async addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /**
   * The k nearest documents with their scores. `filter` is a ragwire filter, LangChain's equality
   * object, or a function `(doc) => boolean` (MemoryVectorStore's), which runs in the client on
   * fetched candidates, fetching more until k pass (see queryWithPredicate: a declarative filter is faster).
   */
  async similaritySearchVectorWithScore(query: number[], k: number, filter?: this['FilterType']): Promise<[Document, number][]> {
    const hits = await this.search({ vectors: Float32Array.from(query), k }, filter, false);
    return hits.map((h) => [h.doc, h.score]);
  }

  /**
   * BM25 over the stored text fused with the dense search of the embedded query (docs/search.md):
   * the store embeds `query` and sends its text too, and with `sparseEmbeddings` its sparse vector
   * as a third branch. Documents best first.
   */
  async hybridSearch(query: string, k: number, options: HybridSearchOptions = {}): Promise<Document[]> {
    return (await this.hybridSearchWithScore(query, k, options)).map(([doc]) => doc);
  }

  /** hybridSearch with each document's fused score. */
  async hybridSearchWithScore(query: string, k: number, options: HybridSearchOptions = {}): Promise<[Document, number][]> {
    const fusion: Fusion = {
      method: options.fusion ?? 'rrf',
      ...(options.alpha !== undefined ? { alpha: options.alpha } : {}),
      ...(options.rrfK !== undefined ? { k: options.rrfK } : {}),
    };
    const [vector, sparse] = await Promise.all([
      this.embeddings.embedQuery(query),
      this.sparseEmbeddings ? encodeSparseQuery(this.sparseEmbeddings, query) : undefined,
    ]);
    const q: ShardedQuery = {
      vectors: Float32Array.from(vector),
      k,
      text: [query],
      ...(sparse ? { sparse: [sparse] } : {}),
      fusion,
      ...(options.prefetch !== undefined ? { prefetch: options.prefetch } : {}),
    };
    const hits = await this.search(q, options.filter, false);
    return hits.map((h) => [h.doc, h.score]);
  }

  /**
   * The k documents whose stored sparse vectors score highest (dot product) against the query's,
   * from `sparseEmbeddings`; InvalidArgumentError without it. Documents best first.
   */
  async sparseSearch(query: string, k: number, options: SparseSearchOptions = {}): Promise<Document[]> {
    return (await this.sparseSearchWithScore(query, k, options)).map(([doc]) => doc);
  }

  /** sparseSearch with each document's dot product. */
  async sparseSearchWithScore(query: string, k: number, options: SparseSearchOptions = {}): Promise<[Document, number][]> {
    if (!this.sparseEmbeddings) throw new InvalidArgumentError('sparseSearch needs the sparseEmbeddings option (a sparse encoder)');
    const sparse = await encodeSparseQuery(this.sparseEmbeddings, query);
    const hits = await this.search({ vectors: new Float32Array(0), k, sparse: [sparse] }, options.filter, false);
    return hits.map((h) => [h.doc, h.score]);
  }

  /**
   * A retriever; `searchType: 'hybrid'` retrieves by hybridSearch (options under `hybrid`),
   * `'sparse'` by sparseSearch, the others as LangChain's.
   */
  override asRetriever(fields: HybridRetrieverInput): VectorStoreRetriever<this>;
  override asRetriever(
    kOrFields?: number | Partial<VectorStoreRetrieverInput<this>>,
    filter?: this['FilterType'],
    callbacks?: Callbacks,
    tags?: string[],
    metadata?: Record<string, unknown>,
    verbose?: boolean,
  ): VectorStoreRetriever<this>;
  override asRetriever(kOrFields?: number | Partial<VectorStoreRetrieverInput<this>> | HybridRetrieverInput, ...rest: unknown[]): VectorStoreRetriever<this> {
    const k = typeof kOrFields === 'number' ? kOrFields : kOrFields?.k;
    if (k !== undefined) checkK(k);
    if (typeof kOrFields === 'object' && kOrFields !== null && (kOrFields.searchType === 'hybrid' || kOrFields.searchType === 'sparse')) {
      return new RagwireHybridRetriever({ ...(kOrFields as HybridRetrieverInput), vectorStore: this }) as unknown as VectorStoreRetriever<this>;
    }
    return (super.asRetriever as (...a: unknown[]) => VectorStoreRetriever<this>)(kOrFields, ...rest);
  }

  /**
   * Fetches `fetchK` (default 20) nearest documents with their stored vectors, then picks `k` of
   * them by maximal marginal relevance (`lambda` 0: most diverse, 1: most relevant; default 0.5).
   */
  override async maxMarginalRelevanceSearch(
    query: string,
    options: MaxMarginalRelevanceSearchOptions<this['FilterType']>,
    _callbacks?: Callbacks,
  ): Promise<Document[]> {
    const k = checkK(options.k ?? 4);
    const fetchK = Math.max(k, checkK(options.fetchK ?? 20, 'fetchK'));
    const queryVector = await this.embeddings.embedQuery(query);
    const hits = await this.search({ vectors: Float32Array.from(queryVector), k: fetchK }, options.filter, true);
    if (hits.length === 0) return [];
    const picked = maximalMarginalRelevance(
      queryVector,
      hits.map((h) => h.vector!),
      options.lambda ?? 0.5,
      k,
    );
    return picked.map((i) => hits[i]!.doc);
  }

  /** Deletes by ids, or every document a filter matches. */
  override async delete(params?: { ids?: string[]; filter?: RagwireLangChainFilter }): Promise<void> {
    if (params?.ids !== undefined && params.filter !== undefined) throw new InvalidArgumentError('delete takes ids or filter, not both');
    if (params?.ids !== undefined) {
      if (params.ids.length > 0) await this.handle.delete({ ids: params.ids });
      return;
    }
    if (isFunctionFilter(params?.filter)) throw new InvalidArgumentError('delete takes ids or a declarative filter, not a function');
    const filter = toRagwireFilter(params?.filter);
    if (filter === undefined) throw new InvalidArgumentError('delete needs { ids } or a non-empty { filter }');
    await this.handle.delete({ filter });
  }

  /** Closes the connections (or the embedded store) this store opened; an injected client stays open. */
  async close(): Promise<void> {
    await this.handle.close();
  }

  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    args: RagwireVectorStoreArgs,
  ): Promise<RagwireVectorStore> {
    const docs = texts.map(
      (text, i) => new Document({ pageContent: text, metadata: ((Array.isArray(metadatas) ? metadatas[i] : metadatas) as Record<string, unknown>) ?? {} }),
    );
    return RagwireVectorStore.fromDocuments(docs, embeddings, args);
  }

  static override async fromDocuments(docs: DocumentInterface[], embeddings: EmbeddingsInterface, args: RagwireVectorStoreArgs): Promise<RagwireVectorStore> {
    const store = new RagwireVectorStore(embeddings, args);
    await store.addDocuments(docs);
    return store;
  }

  /** A store on a collection that must already exist (UnknownCollectionError otherwise). */
  static async fromExistingCollection(embeddings: EmbeddingsInterface, args: RagwireVectorStoreArgs): Promise<RagwireVectorStore> {
    const store = new RagwireVectorStore(embeddings, args);
    try {
      await store.collection.describe();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  private async search(q: ShardedQuery, filter: RagwireLangChainFilter | DocumentPredicate | undefined, withVectors: boolean) {
    const options = { withPayload: true, ...(withVectors ? { withVectors: true } : {}) };
    let result: ShardedResult;
    if (isFunctionFilter(filter)) {
      // The first function filter of this store is logged once, with what it was seen to judge.
      const seen: FilterVerdict[] | undefined = this.warnedFunctionFilter ? undefined : [];
      this.warnedFunctionFilter = true;
      try {
        result = await this.handle.query({ ...q, options }, (id, p) => {
          const doc = toDocument(id, p);
          const passed = filter(doc);
          seen?.push({ metadata: doc.metadata, passed: Boolean(passed) });
          return passed;
        });
      } finally {
        if (seen) console.warn(functionFilterAdvice(declarativeEquivalent(filter, seen)));
      }
    } else {
      const declarative: Filter | undefined = toRagwireFilter(filter);
      result = await this.handle.query({ ...q, ...(declarative ? { filter: declarative } : {}), options });
    }
    const dim = result.vectors && result.ids.length > 0 ? result.vectors.length / result.ids.length : 0;
    return result.ids.map((id, i) => ({
      doc: toDocument(id, result.payloads?.[i] ?? null),
      score: result.scores[i]!,
      vector: withVectors ? Array.from(result.vectors!.subarray(i * dim, (i + 1) * dim)) : undefined,
    }));
  }

  private warnedFunctionFilter = false;
}

function toDocument(id: string, p: Payload | null): Document {
  return new Document({ id, pageContent: p?.text ?? '', metadata: p?.metadata ?? {} });
}
