/** The Index class, createIndex and loadIndex, and the engine's process-wide queries. */
import { ClosedError, InvalidArgumentError, NO_LABEL, type IndexKind, type Metric, type Storage } from '@ragwire/protocol';
import { resolve } from 'node:path';
import { native, type NativeIndexHandle } from './binding';
import type { Device, DeviceInfo, IndexOptions, IndexStats, SaveOptions, SearchOptions, SearchResult } from './types';
import {
  MAX_DIM,
  MAX_K,
  checkDevice,
  checkFilter,
  checkInt,
  checkKeys,
  checkKind,
  checkLabels,
  checkMetric,
  checkOptionalBoolean,
  checkParam,
  checkPath,
  checkPlacement,
  checkStorage,
  checkVectors,
} from './validate';

export type {
  BqParams,
  Device,
  DeviceInfo,
  HnswParams,
  IndexOptions,
  IndexStats,
  SaveOptions,
  SearchOptions,
  SearchResult,
  VectorPlacement,
} from './types';
export { NO_LABEL };
export { nativeBinaryPath } from './binding';
export { DEVICES } from './validate';

const INDEX_KEYS = ['dim', 'metric', 'kind', 'storage', 'hnsw', 'bq', 'device', 'deviceTileRows', 'inlineSearchBudget', 'vectors', 'vectorsPath'] as const;
/** IndexOptions.inlineSearchBudget's default, in floats read. */
const INLINE_SEARCH_BUDGET = 2_000_000;
const HNSW_KEYS = ['M', 'efConstruction', 'efSearch', 'seed', 'inlineCodes'] as const;
const BQ_KEYS = ['rerankFactor'] as const;
const SEARCH_KEYS = ['efSearch', 'rerankFactor', 'filter', 'filterScanThreshold', 'exact', 'onDevice'] as const;

/** A vector index: flat (exact), hnsw (graph) or bq (binary codes + rerank). */
export class Index {
  readonly dim: number;
  readonly metric: Metric;
  readonly kind: IndexKind;
  readonly storage: Storage;
  #handle: NativeIndexHandle | null;
  readonly #inlineBudget: number;
  readonly #params: { M: number; efSearch: number; rerankFactor: number };
  /** A flat index whose rows live on a device: its searches go there unless asked otherwise. */
  readonly #flatOnDevice: boolean;
  /** Live vectors as of the last add or remove that resolved: the cost estimate's row count. */
  #rows: number;

  /** @internal use createIndex() or loadIndex() */
  constructor(handle: NativeIndexHandle, inlineSearchBudget = INLINE_SEARCH_BUDGET) {
    this.#handle = handle;
    const s = handle.stats() as unknown as IndexStats;
    this.dim = s.dim;
    this.metric = s.metric;
    this.kind = s.kind;
    this.storage = s.storage;
    this.#inlineBudget = inlineSearchBudget;
    this.#params = { M: s.M ?? 16, efSearch: s.efSearch ?? 64, rerankFactor: s.rerankFactor ?? 1 };
    this.#flatOnDevice = s.kind === 'flat' && s.deviceKind !== 'cpu';
    this.#rows = s.count;
  }

  /** Adds labelled vectors: `vectors.length === labels.length * dim`. A live label cannot be added twice. */
  add(labels: Uint32Array, vectors: Float32Array): Promise<void> {
    return this.#call((h) => h.add(checkLabels(labels), checkVectors('vectors', vectors, this.dim, labels.length))).then(() => {
      this.#rows += labels.length;
    });
  }

  /**
   * Finds the k nearest of each query. Scores are "higher = more similar":
   * cosine similarity, dot product, or minus the squared L2 / the L1 distance.
   * A single query estimated to cost less than IndexOptions.inlineSearchBudget runs on the calling
   * thread and resolves at once; anything larger runs on the engine's threads.
   */
  search(queries: Float32Array, k: number, options: SearchOptions = {}): Promise<SearchResult> {
    try {
      const h = this.#live();
      const args = this.#searchArgs(queries, k, options);
      if (queries.length === this.dim && this.#inline(k, options)) return Promise.resolve(h.searchSync(...args));
      return h.search(...args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** @internal The addon's object, for the native data plane to search the same index (data-plane-registry.ts). */
  nativeHandle(): NativeIndexHandle {
    return this.#live();
  }

  /** search() on the calling thread: for small indexes and raw engine timings. */
  searchSync(queries: Float32Array, k: number, options: SearchOptions = {}): SearchResult {
    return this.#live().searchSync(...this.#searchArgs(queries, k, options));
  }

  /** Tombstones the labels; resolves to how many were present. */
  remove(labels: Uint32Array): Promise<number> {
    return this.#call((h) => h.remove(checkLabels(labels))).then((removed) => {
      this.#rows -= removed;
      return removed;
    });
  }

  /** Reclaims the space of removed vectors (rebuilds the graph for hnsw). */
  compact(): Promise<void> {
    return this.#call((h) => h.compact());
  }

  /** Writes a versioned, checksummed snapshot (atomically: temp file, fsync, rename). */
  save(path: string, options: SaveOptions = {}): Promise<void> {
    checkKeys('save', options, ['userData']);
    return this.#call((h) => h.save(path, options.userData));
  }

  stats(): IndexStats {
    return this.#live().stats() as unknown as IndexStats;
  }

  /** Live vectors. */
  get size(): number {
    return this.stats().count;
  }

  /** Frees the engine memory now; later calls throw ClosedError. Running calls finish first. */
  close(): void {
    this.#handle?.close();
    this.#handle = null;
  }

  #live(): NativeIndexHandle {
    if (!this.#handle) throw new ClosedError('the index is closed');
    return this.#handle;
  }

  // Validation errors become rejections, not synchronous throws, for async methods.
  #call<T>(fn: (h: NativeIndexHandle) => Promise<T>): Promise<T> {
    try {
      return fn(this.#live());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Whether one query's estimated cost, in floats read, is within the inline budget. */
  #inline(k: number, options: SearchOptions): boolean {
    if (this.#flatOnDevice && options.onDevice !== false) return false;
    const { dim } = this;
    const rows = this.#rows;
    let floats: number;
    if (options.exact === true || this.kind === 'flat') floats = rows * dim;
    else if (this.kind === 'bq') floats = rows * Math.ceil(dim / 32) + k * (options.rerankFactor ?? this.#params.rerankFactor) * dim;
    else floats = Math.max(k, options.efSearch ?? this.#params.efSearch) * 2 * this.#params.M * dim;
    return floats <= this.#inlineBudget;
  }

  #searchArgs(queries: Float32Array, k: number, options: SearchOptions) {
    checkKeys('search', options, SEARCH_KEYS);
    checkVectors('queries', queries, this.dim);
    checkInt('k', k, 1, MAX_K);
    const ef = options.efSearch === undefined ? undefined : checkParam('efSearch', 'efSearch', options.efSearch);
    const rerank = options.rerankFactor === undefined ? undefined : checkParam('rerankFactor', 'rerankFactor', options.rerankFactor);
    const scan = options.filterScanThreshold === undefined ? undefined : checkInt('filterScanThreshold', options.filterScanThreshold, 0, 0xffffffff);
    const exact = checkOptionalBoolean('exact', options.exact) ?? false;
    const onDevice = checkOptionalBoolean('onDevice', options.onDevice) ?? true;
    return [queries, k, ef, rerank, scan, checkFilter(options.filter), exact, onDevice] as const;
  }
}

/** Creates an empty index. */
export function createIndex(options: IndexOptions): Index {
  checkKeys('index', options, INDEX_KEYS);
  const dim = checkInt('dim', options.dim, 1, MAX_DIM);
  const hnsw = options.hnsw ?? {};
  const bq = options.bq ?? {};
  checkKeys('hnsw', hnsw, HNSW_KEYS);
  checkKeys('bq', bq, BQ_KEYS);
  const config = {
    dim,
    metric: checkMetric(options.metric),
    kind: checkKind(options.kind ?? 'hnsw'),
    storage: checkStorage(options.storage ?? 'f32'),
    M: hnsw.M === undefined ? undefined : checkParam('hnsw.M', 'M', hnsw.M),
    efConstruction: hnsw.efConstruction === undefined ? undefined : checkParam('hnsw.efConstruction', 'efConstruction', hnsw.efConstruction),
    efSearch: hnsw.efSearch === undefined ? undefined : checkParam('hnsw.efSearch', 'efSearch', hnsw.efSearch),
    seed: hnsw.seed === undefined ? undefined : checkParam('hnsw.seed', 'seed', hnsw.seed),
    inlineCodes: checkOptionalBoolean('hnsw.inlineCodes', hnsw.inlineCodes),
    rerankFactor: bq.rerankFactor === undefined ? undefined : checkParam('bq.rerankFactor', 'rerankFactor', bq.rerankFactor),
    device: checkDevice(options.device ?? 'cpu'),
    deviceTileRows: options.deviceTileRows === undefined ? undefined : checkInt('deviceTileRows', options.deviceTileRows, 1, 0xffffffff),
    ...placement(options),
  };
  return new Index(new (native().NativeIndex)(config), inlineBudget(options.inlineSearchBudget));
}

/** vectors and vectorsPath: a path only with 'disk', and made absolute so a snapshot names it from anywhere. */
function placement(options: IndexOptions): { vectors: string; vectorsPath?: string } {
  const vectors = checkPlacement(options.vectors ?? 'memory');
  if (vectors === 'memory') {
    if (options.vectorsPath !== undefined) throw new InvalidArgumentError("vectorsPath is for vectors 'disk'");
    return { vectors };
  }
  return { vectors, vectorsPath: resolve(checkPath('vectorsPath', options.vectorsPath)) };
}

function inlineBudget(value: number | undefined): number {
  return value === undefined ? INLINE_SEARCH_BUDGET : checkInt('inlineSearchBudget', value, 0, Number.MAX_SAFE_INTEGER);
}

/** An index read back from a snapshot (the file is mapped, not copied), with the bytes saved beside it. */
export interface LoadedIndex extends Index {
  readonly userData: Uint8Array | null;
}

/** Where a loaded index runs: a snapshot does not record the device it was built on. */
export interface LoadOptions {
  /** As IndexOptions.device; default 'cpu'. */
  device?: Device;
  deviceTileRows?: number;
  /** As IndexOptions.inlineSearchBudget. */
  inlineSearchBudget?: number;
  /**
   * A snapshot of an index with vectors on disk: where its vector file is now, when it moved since
   * the snapshot was saved (default: the path the snapshot records). Its rows are checked against
   * the snapshot's checksum; a file that changed is refused with CorruptSnapshotError.
   */
  vectorsPath?: string;
}

/**
 * Loads a snapshot; a truncated, bit-flipped or foreign file is refused with CorruptSnapshotError.
 * With a device, a flat index's rows are uploaded to it (and an hnsw index rebuilds there on compaction).
 */
export async function loadIndex(path: string, options: LoadOptions = {}): Promise<LoadedIndex> {
  checkKeys('loadIndex', options, ['device', 'deviceTileRows', 'inlineSearchBudget', 'vectorsPath']);
  const device = checkDevice(options.device ?? 'cpu');
  const tile = options.deviceTileRows === undefined ? undefined : checkInt('deviceTileRows', options.deviceTileRows, 1, 0xffffffff);
  const budget = inlineBudget(options.inlineSearchBudget);
  const vectorsPath = options.vectorsPath === undefined ? undefined : resolve(checkPath('vectorsPath', options.vectorsPath));
  const { index, userData } = await native().loadIndex(path, device, tile, vectorsPath);
  return Object.assign(new Index(index, budget), { userData }) as LoadedIndex;
}

/** The instruction set the kernels use: 'avx512' | 'avx2' | 'neon' | 'scalar'. */
export function isa(): string {
  return native().isa();
}

/**
 * The devices this build and machine have, the CPU first: OpenCL devices when the addon was built
 * with OpenCL (ocl-icd), CUDA devices when built with nvcc and a driver is present.
 */
export function devices(): DeviceInfo[] {
  return native().devices() as unknown as DeviceInfo[];
}

/** Threads in the engine's pool (RAGWIRE_THREADS overrides the hardware count). */
export function engineThreads(): number {
  return native().threads();
}

/** Streaming read bandwidth in GB/s on the engine's threads: the bound of an exact scan. */
export function measureReadBandwidth(bytes?: number): number {
  return native().measureReadBandwidth(bytes);
}

export { transports, ucxStats, ucxQuiesce, type TransportsReport, type UcxServing, type UcxStats } from './ucx-worker';
export { sumAnswerTimes, type AnswerTimes } from './answer-times';
export { UcxSocket } from './ucx-socket';
export { connectUcx, acceptUcx } from './ucx-handshake';
export { DataPlaneRegistry, type FilterFields, type NativeAnswering, type PlanRules as DataPlanePlanRules } from './data-plane-registry';
export {
  listenNativeTcp,
  NativeTcpSocket,
  type NativeTcpListener,
  type NativeTcpListenOptions,
  type NativeTcpLimits,
  type NativeTcpStats,
  type NativeConnectionState,
} from './native-tcp';
