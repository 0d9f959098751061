export { RagwireVectorStore, type RagwireVectorStoreArgs } from './vector-store';
export { RagwireHybridRetriever, type HybridRetrieverInput, type HybridSearchOptions, type HybridSearchable } from './hybrid-retriever';
export { toRagwireFilter, type RagwireLangChainFilter, type DocumentPredicate } from './filter';
