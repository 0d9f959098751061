export { RagwireVectorStore, type RagwireVectorStoreArgs } from './vector-store';
export {
  RagwireHybridRetriever,
  type HybridRetrieverInput,
  type HybridSearchOptions,
  type HybridSearchable,
  type SparseSearchOptions,
} from './hybrid-retriever';
export { toRagwireFilter, type RagwireLangChainFilter, type DocumentPredicate } from './filter';
export type { SparseEncoder, SparseWeights } from '@ragwire/client';
