export { RagwireVectorStore, type RagwireVectorStoreArgs } from './vector-store';
export { toRagwireFilter, type RagwireLangChainFilter } from './filter';
