import type { Metric } from '@ragwire/protocol';

/** Distance functions, as the engine names them (the protocol's one list). Scores are "higher = more similar". */
export type { Metric };

/** Base and query vectors, row-major float32. */
export interface VectorSet {
  name: string;
  dim: number;
  /** The metric the set is meant to be searched with. */
  metric: Metric;
  base: Float32Array;
  queries: Float32Array;
  nBase: number;
  nQueries: number;
}

/** A vector set with exact ground truth: row i of `groundTruth` holds query i's `gtK` nearest base ids, nearest first. */
export interface Dataset extends VectorSet {
  groundTruth: Int32Array;
  gtK: number;
}
