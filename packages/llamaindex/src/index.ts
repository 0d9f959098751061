export { RagwireVectorStore, type RagwireVectorStoreParams } from './vector-store';
export { toRagwireFilter } from './filter';
export { planFilters, type FilterPlan } from './residual-filter';
