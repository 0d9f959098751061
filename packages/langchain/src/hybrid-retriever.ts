// asRetriever({ searchType: 'hybrid' | 'sparse' }): LangChain's VectorStoreRetriever, retrieving by the
// store's hybridSearch (BM25 fused with the dense search; docs/search.md) or its sparseSearch.
import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager';
import type { DocumentInterface } from '@langchain/core/documents';
import { VectorStoreRetriever, type VectorStoreInterface } from '@langchain/core/vectorstores';
import type { FusionMethod } from '@ragwire/protocol';
import type { RagwireLangChainFilter } from './filter';

/** How hybridSearch fuses BM25 and the dense search (docs/search.md §3). */
export interface HybridSearchOptions {
  /** Default 'rrf'. */
  fusion?: FusionMethod;
  /** weighted: the dense side's weight, 0..1 (default 0.5); the text side weighs 1 - alpha. */
  alpha?: number;
  /** rrf: the k of 1 / (k + rank), default 60. */
  rrfK?: number;
  /** Candidates each side ranks before fusion; default max(k, 100). */
  prefetch?: number;
  filter?: RagwireLangChainFilter;
}

/** What sparseSearch takes beside the query and k. */
export interface SparseSearchOptions {
  filter?: RagwireLangChainFilter;
}

/** A vector store with hybridSearch and sparseSearch: RagwireVectorStore. */
export interface HybridSearchable extends VectorStoreInterface {
  FilterType: RagwireLangChainFilter;
  hybridSearch(query: string, k: number, options?: HybridSearchOptions): Promise<DocumentInterface[]>;
  sparseSearch(query: string, k: number, options?: SparseSearchOptions): Promise<DocumentInterface[]>;
}

export interface HybridRetrieverInput {
  /** 'hybrid': by hybridSearch; 'sparse': by sparseSearch (the store's sparseEmbeddings alone). */
  searchType: 'hybrid' | 'sparse';
  /** Documents per query. Default 4. */
  k?: number;
  filter?: RagwireLangChainFilter;
  /** Fusion, alpha, prefetch (see HybridSearchOptions); hybrid only. */
  hybrid?: Omit<HybridSearchOptions, 'filter'>;
  tags?: string[];
  metadata?: Record<string, unknown>;
  verbose?: boolean;
}

export class RagwireHybridRetriever<V extends HybridSearchable = HybridSearchable> extends VectorStoreRetriever<V> {
  private readonly hybrid: Omit<HybridSearchOptions, 'filter'>;
  private readonly by: 'hybrid' | 'sparse';

  constructor(fields: HybridRetrieverInput & { vectorStore: V }) {
    const { hybrid, searchType, ...rest } = fields;
    super({ ...rest, searchType: 'similarity' });
    this.searchType = searchType;
    this.by = searchType;
    this.hybrid = hybrid ?? {};
  }

  override async _getRelevantDocuments(query: string, _runManager?: CallbackManagerForRetrieverRun): Promise<DocumentInterface[]> {
    const filter = this.filter !== undefined ? { filter: this.filter } : {};
    return this.by === 'sparse'
      ? this.vectorStore.sparseSearch(query, this.k, filter)
      : this.vectorStore.hybridSearch(query, this.k, { ...this.hybrid, ...filter });
  }
}
