// asRetriever({ searchType: 'hybrid' }): LangChain's VectorStoreRetriever, retrieving by the store's
// hybridSearch (BM25 fused with the dense search; docs/search.md).
import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager';
import type { DocumentInterface } from '@langchain/core/documents';
import { VectorStoreRetriever } from '@langchain/core/vectorstores';
import type { RagwireLangChainFilter } from './filter';
import type { HybridSearchOptions, RagwireVectorStore } from './vector-store';

export interface HybridRetrieverInput {
  searchType: 'hybrid';
  /** Documents per query. Default 4. */
  k?: number;
  filter?: RagwireLangChainFilter;
  /** Fusion, alpha, prefetch (see HybridSearchOptions). */
  hybrid?: Omit<HybridSearchOptions, 'filter'>;
  tags?: string[];
  metadata?: Record<string, unknown>;
  verbose?: boolean;
}

export class RagwireHybridRetriever extends VectorStoreRetriever<RagwireVectorStore> {
  private readonly hybrid: Omit<HybridSearchOptions, 'filter'>;

  constructor(fields: HybridRetrieverInput & { vectorStore: RagwireVectorStore }) {
    const { hybrid, searchType: _searchType, ...rest } = fields;
    super({ ...rest, searchType: 'similarity' });
    this.searchType = 'hybrid';
    this.hybrid = hybrid ?? {};
  }

  override async _getRelevantDocuments(query: string, _runManager?: CallbackManagerForRetrieverRun): Promise<DocumentInterface[]> {
    return this.vectorStore.hybridSearch(query, this.k, { ...this.hybrid, ...(this.filter !== undefined ? { filter: this.filter } : {}) });
  }
}
