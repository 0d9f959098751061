// RagwireVectorStore: LangChain's VectorStore over a ragwire collection (embedded or sharded).
import { randomUUID } from 'node:crypto';
import type { Callbacks } from '@langchain/core/callbacks/manager';
import { Document, type DocumentInterface } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { maximalMarginalRelevance } from '@langchain/core/utils/math';
import { VectorStore, type MaxMarginalRelevanceSearchOptions, type VectorStoreRetriever, type VectorStoreRetrieverInput } from '@langchain/core/vectorstores';
import { connectCollection, ensureCollection, queryWithPredicate, type CollectionSpec, type CollectionTarget, type ShardedCollection, type ShardedQuery, type ShardedResult } from '@ragwire/client';
import { hasCode, InvalidArgumentError, type Filter, type Fusion, type Payload, type QueryOptions } from '@ragwire/protocol';
import { isFunctionFilter, toRagwireFilter, type DocumentPredicate, type RagwireLangChainFilter } from './filter';
import { RagwireHybridRetriever, type HybridRetrieverInput, type HybridSearchOptions } from './hybrid-retriever';

/**
 * Where the documents live (exactly one of `path`, `shards`, `client`; see CollectionTarget), how a
 * collection created on first write is indexed, and how searches run.
 */
export interface RagwireVectorStoreArgs extends CollectionTarget, CollectionSpec {
  /** Brute-force search whatever the index kind: exact top-k. Default false. */
  exact?: boolean;
  /** HNSW candidate list size per search. Default: the collection's. */
  efSearch?: number;
  /** Documents per upsert request. Default 1000. */
  batchSize?: number;
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
  private readonly owned: boolean;
  private readonly spec: CollectionSpec;
  private readonly queryOptions: QueryOptions;
  private readonly batchSize: number;
  private ready: Promise<unknown> | undefined;

  _vectorstoreType(): string {
    return 'ragwire';
  }

  constructor(embeddings: EmbeddingsInterface, args: RagwireVectorStoreArgs) {
    super(embeddings, args ?? {});
    const { collection, owned } = connectCollection(args, 'RagwireVectorStore');
    this.collection = collection;
    this.owned = owned;
    this.spec = {
      ...(args.metric ? { metric: args.metric } : {}), ...(args.kind ? { kind: args.kind } : {}), ...(args.storage ? { storage: args.storage } : {}),
      ...(args.params ? { params: args.params } : {}), ...(args.text ? { text: args.text } : {}),
    };
    this.queryOptions = { ...(args.exact ? { exact: true } : {}), ...(args.efSearch !== undefined ? { efSearch: args.efSearch } : {}) };
    this.batchSize = args.batchSize ?? 1000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new InvalidArgumentError(`batchSize must be a positive integer, got ${args.batchSize}`);
  }

  /** Stores documents with precomputed vectors. Ids: `options.ids`, else each document's `id`, else generated. */
  async addVectors(vectors: number[][], documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    if (vectors.length !== documents.length) throw new InvalidArgumentError(`got ${vectors.length} vectors for ${documents.length} documents`);
    if (options?.ids && options.ids.length !== documents.length) throw new InvalidArgumentError(`got ${options.ids.length} ids for ${documents.length} documents`);
    const n = vectors.length;
    if (n === 0) return [];
    const dim = vectors[0]!.length;
    const ids = documents.map((d, i) => options?.ids?.[i] ?? d.id ?? randomUUID());
    await this.ensure(dim);
    for (let start = 0; start < n; start += this.batchSize) {
      const end = Math.min(n, start + this.batchSize);
      const flat = new Float32Array((end - start) * dim);
      const payloads: Payload[] = [];
      for (let i = start; i < end; i++) {
        const v = vectors[i]!;
        if (v.length !== dim) throw new InvalidArgumentError(`vector ${i} has ${v.length} dimensions, vector 0 has ${dim}`);
        flat.set(v, (i - start) * dim);
        payloads.push({ text: documents[i]!.pageContent, metadata: documents[i]!.metadata ?? {} });
      }
      await this.collection.upsert({ ids: ids.slice(start, end), vectors: flat, payloads });
    }
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
   * the store embeds `query` and sends its text too. Documents best first.
   */
  async hybridSearch(query: string, k: number, options: HybridSearchOptions = {}): Promise<Document[]> {
    return (await this.hybridSearchWithScore(query, k, options)).map(([doc]) => doc);
  }

  /** hybridSearch with each document's fused score. */
  async hybridSearchWithScore(query: string, k: number, options: HybridSearchOptions = {}): Promise<[Document, number][]> {
    const fusion: Fusion = { method: options.fusion ?? 'rrf', ...(options.alpha !== undefined ? { alpha: options.alpha } : {}), ...(options.rrfK !== undefined ? { k: options.rrfK } : {}) };
    const vector = await this.embeddings.embedQuery(query);
    const q: ShardedQuery = { vectors: Float32Array.from(vector), k, text: [query], fusion, ...(options.prefetch !== undefined ? { prefetch: options.prefetch } : {}) };
    const hits = await this.search(q, options.filter, false);
    return hits.map((h) => [h.doc, h.score]);
  }

  /** A retriever; `searchType: 'hybrid'` retrieves by hybridSearch (options under `hybrid`), the others as LangChain's. */
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
    if (typeof kOrFields === 'object' && kOrFields !== null && kOrFields.searchType === 'hybrid') {
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
    const k = options.k ?? 4;
    const fetchK = Math.max(k, options.fetchK ?? 20);
    const queryVector = await this.embeddings.embedQuery(query);
    const hits = await this.search({ vectors: Float32Array.from(queryVector), k: fetchK }, options.filter, true);
    if (hits.length === 0) return [];
    const picked = maximalMarginalRelevance(queryVector, hits.map((h) => h.vector!), options.lambda ?? 0.5, k);
    return picked.map((i) => hits[i]!.doc);
  }

  /** Deletes by ids, or every document a filter matches. */
  override async delete(params?: { ids?: string[]; filter?: RagwireLangChainFilter }): Promise<void> {
    if (params?.ids !== undefined && params.filter !== undefined) throw new InvalidArgumentError('delete takes ids or filter, not both');
    try {
      if (params?.ids !== undefined) {
        if (params.ids.length > 0) await this.collection.delete({ ids: params.ids });
        return;
      }
      if (isFunctionFilter(params?.filter)) throw new InvalidArgumentError('delete takes ids or a declarative filter, not a function');
      const filter = toRagwireFilter(params?.filter);
      if (filter === undefined) throw new InvalidArgumentError('delete needs { ids } or a non-empty { filter }');
      await this.collection.delete({ filter });
    } catch (error) {
      if (!isUnknownCollection(error)) throw error;
    }
  }

  /** Closes the connections (or the embedded store) this store opened; an injected client stays open. */
  async close(): Promise<void> {
    if (this.owned) await this.collection.close();
  }

  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    args: RagwireVectorStoreArgs,
  ): Promise<RagwireVectorStore> {
    const docs = texts.map(
      (text, i) => new Document({ pageContent: text, metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) as Record<string, unknown> ?? {} }),
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

  private ensure(dim: number): Promise<unknown> {
    this.ready ??= ensureCollection(this.collection, dim, this.spec).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async search(q: ShardedQuery, filter: RagwireLangChainFilter | DocumentPredicate | undefined, withVectors: boolean) {
    const { k } = q;
    if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`k must be a positive integer, got ${k}`);
    const options = { ...this.queryOptions, withPayload: true, ...(withVectors ? { withVectors: true } : {}) };
    let result: ShardedResult;
    try {
      if (isFunctionFilter(filter)) {
        this.warnFunctionFilter();
        result = await queryWithPredicate(this.collection, { ...q, options }, (id, p) => filter(toDocument(id, p)));
      } else {
        const declarative: Filter | undefined = toRagwireFilter(filter);
        result = await this.collection.query({ ...q, ...(declarative ? { filter: declarative } : {}), options });
      }
    } catch (error) {
      if (isUnknownCollection(error)) return []; // nothing was ever added
      throw error;
    }
    const dim = result.vectors && result.ids.length > 0 ? result.vectors.length / result.ids.length : 0;
    return result.ids.map((id, i) => ({
      doc: toDocument(id, result.payloads?.[i] ?? null),
      score: result.scores[i]!,
      vector: withVectors ? Array.from(result.vectors!.subarray(i * dim, (i + 1) * dim)) : undefined,
    }));
  }

  private warnedFunctionFilter = false;

  private warnFunctionFilter(): void {
    if (this.warnedFunctionFilter) return;
    this.warnedFunctionFilter = true;
    console.warn(
      'ragwire: a function filter runs in this process on fetched candidates (fetching more until k pass); ' +
        "a declarative filter such as { source: 'a.md' } or { must: [{ key: 'source', eq: 'a.md' }] } runs inside the index and is faster.",
    );
  }
}

function toDocument(id: string, p: Payload | null): Document {
  return new Document({ id, pageContent: p?.text ?? '', metadata: p?.metadata ?? {} });
}

function isUnknownCollection(error: unknown): boolean {
  return hasCode(error, 'RAGWIRE_ERR_UNKNOWN_COLLECTION');
}
