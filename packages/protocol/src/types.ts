/** Distance functions. Scores are always "higher = more similar" (see docs/engine.md). */
export type Metric = 'l2' | 'ip' | 'cosine' | 'l1';
/** Index kinds of the native engine. */
export type IndexKind = 'flat' | 'hnsw' | 'bq';
/** How vectors are held in the index; quantized kinds keep f32 for the rerank. */
export type Storage = 'f32' | 'f16' | 'sq8';

export const METRICS: readonly Metric[] = ['l2', 'ip', 'cosine', 'l1'];
export const INDEX_KINDS: readonly IndexKind[] = ['flat', 'hnsw', 'bq'];
export const STORAGES: readonly Storage[] = ['f32', 'f16', 'sq8'];

/** Label value marking an empty result slot (fewer than k matches). */
export const NO_LABEL = 0xffffffff;
