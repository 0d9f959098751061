export { RagwireVectorStore, type RagwireVectorStoreArgs, type HybridSearchOptions } from './vector-store';
export { RagwireHybridRetriever, type HybridRetrieverInput } from './hybrid-retriever';
export { toRagwireFilter, type RagwireLangChainFilter, type DocumentPredicate } from './filter';
