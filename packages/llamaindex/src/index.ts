export { RagwireVectorStore, type RagwireVectorStoreParams } from './vector-store';
export { toRagwireFilter } from './filter';
