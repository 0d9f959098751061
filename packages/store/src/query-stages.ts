// The stages of one query, for a caller that traces them (the shard server's spans,
// docs/operations.md "Traces"): where a query's time went inside the store and the engine.

/** A stage of a query: building the filter's allow-list, the engine's dense search, the lexical/fused search, reading payloads and vectors. */
export type QueryStage = 'filter' | 'engine.search' | 'hybrid.search' | 'payloads';

/** Told of each stage once it ended: performance.now() times, and what shaped its cost. */
export type QueryStageListener = (stage: QueryStage, startMs: number, endMs: number, attributes: Record<string, string | number | boolean>) => void;
