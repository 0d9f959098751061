/**
 * The shape every engine takes in the ANN benchmark. Each engine converts the
 * queries once, untimed, into the form its API wants (number[] for
 * hnswlib-node and LangChain), so the timed loops measure search alone.
 */
import type { Metric } from '@ragwire/datasets';

export interface EngineConfig {
  dim: number;
  metric: Metric;
  M: number;
  efConstruction: number;
  seed: number;
}

export interface AnnEngine {
  readonly name: string;
  /** Exact engines are not swept over efSearch. */
  readonly exact: boolean;
  /** Where memoryBytes() comes from: the engine's own account, or its serialized size. */
  readonly memorySource: string;
  /** Adds rows 0..n-1 of `base` with labels 0..n-1; `onProgress(rowsDone)` as it goes. */
  build(base: Float32Array, n: number, onProgress: (rowsDone: number) => void): Promise<void>;
  memoryBytes(): number | null;
  /** Called once before searching, untimed. */
  prepareQueries(queries: Float32Array, nq: number): void;
  /** `forTiming`: the setting the timed runs use (an engine may prepare differently than for the sweep). */
  setEfSearch?(ef: number, forTiming?: boolean): Promise<void> | void;
  /** One query on the calling thread; the raw answer is decoded by ids() after timing. */
  searchOne?(query: number, k: number): unknown;
  /** One query through the engine's asynchronous path. */
  searchOneAsync?(query: number, k: number): Promise<unknown>;
  /** Decodes a raw single-query answer into out[offset, offset + k) (0xFFFFFFFF where missing). */
  ids(raw: unknown, k: number, out: Uint32Array, offset: number): void;
  /** All prepared queries in one call; resolves to nq * k ids. */
  searchBatch?(k: number): Promise<Uint32Array>;
  close(): void;
}

/**
 * A build that can pause between chunks and go on in another process, for builds that outlast one
 * sitting (the growth series' peers at 10M). `buildRange` adds rows [from, n) with labels equal to
 * their rows, asks `pause()` after each chunk and resolves to the rows done when it says yes (n when
 * it never does); `saveBuild` / `loadBuild` carry the index from one process to the next.
 */
export interface ResumableBuild {
  buildRange(base: Float32Array, n: number, from: number, onProgress: (rowsDone: number) => void, pause: () => boolean): Promise<number>;
  saveBuild(file: string): void;
  loadBuild(file: string): void;
}

export function isResumable<T extends AnnEngine>(engine: T): engine is T & ResumableBuild {
  return 'buildRange' in engine;
}

export const MISSING = 0xffffffff;

/**
 * Every engine in benchmark order: ragwire-f16 and ragwire-sq8 walk the graph on f16 / sq8 codes (f32
 * rerank); ragwire-sq8-inline reads the sq8 codes from copies beside each layer-0 link list.
 */
export type EngineName = 'ragwire' | 'ragwire-f16' | 'ragwire-sq8' | 'ragwire-sq8-inline' | 'usearch' | 'hnswlib' | 'langchain';
