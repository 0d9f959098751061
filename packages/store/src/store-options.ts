// StoreOptions checked once, at Store.open: one schema with the documented defaults, then frozen.
import { configSchema, parseConfig } from '@ragwire/protocol';
import { DEVICES } from '@ragwire/native';
import type { Device } from '@ragwire/native';
import type { RebuildReason } from './recovery';
import { DEFAULT_EXACT_SCAN_BYTES } from './search-placement';

export interface StoreOptions {
  /** Directory of the store (created if missing). */
  path: string;
  /** Snapshot a collection's index after this many writes since the last one. Default 10,000. */
  snapshotEveryOps?: number;
  /** Compact the index before a snapshot when this share of its rows are deleted. Default 0.2. */
  compactRatio?: number;
  /** Every collection's index's IndexOptions.inlineSearchBudget (@ragwire/native). Default 2,000,000 floats. */
  inlineSearchBudget?: number;
  /**
   * Collections holding at most this many bytes of vectors (rows x dim x 4) are searched by an exact
   * scan whatever the index kind, and results say `exact: true` (docs/search.md §4). Default 2 MiB:
   * the measured crossover where a scan costs what an HNSW walk does. Above it, a filtered HNSW search
   * is scanned where the planner's cost model finds the scan of its allow-list cheaper than the walk.
   * 0 turns both off: every search uses the index.
   */
  exactScanBytes?: number;
  /**
   * Told when a collection with documents had no usable snapshot at open, so its index was rebuilt
   * from LMDB (slower start, nothing lost). Default: a process warning (code RAGWIRE_SNAPSHOT_REBUILT).
   */
  onRebuild?: (event: RebuildEvent) => void;
  /**
   * Where flat collections search and hnsw collections build their graphs (@ragwire/native's
   * `device`): 'cpu' (default), 'opencl', 'cuda' or 'auto'. bq collections run on the CPU.
   */
  device?: Device;
  /**
   * With a device, a flat collection sends a search batch there only when its work (queries x rows x
   * dim, the floats compared) is above this; smaller batches run on the CPU's kernels over the same
   * rows, with the same results. Default DEFAULT_DEVICE_MIN_WORK (measured on PoCL, an OpenCL CPU
   * device; docs/benchmarks.md §6): measure a GPU with bench/src/device-crossover.ts and set its own.
   */
  deviceMinWork?: number;
  /**
   * Where collections keep their f32 rows (@ragwire/native's `vectors`): 'memory' (default), or
   * 'disk': a collection that walks codes (storage 'sq8' or 'f16', or kind 'bq') keeps them in a
   * memory-mapped file beside its snapshot (vectorsPath()) and reads them only for the exact
   * rerank; the codes and the graph stay in memory, and it runs on the CPU. Other collections stay
   * in memory. A snapshot made under the other placement is rebuilt from LMDB at open.
   */
  vectors?: 'memory' | 'disk';
}

/** A collection's index rebuilt from LMDB at open: which collection, why, and how many documents. */
export interface RebuildEvent {
  collection: string;
  reason: RebuildReason;
  detail: string;
  documents: number;
}

/** See StoreOptions.exactScanBytes (its value lives with the planner, search-placement.ts). */
export { DEFAULT_EXACT_SCAN_BYTES };

/**
 * See StoreOptions.deviceMinWork. On PoCL (an OpenCL device that is the CPU itself) the device lost in
 * every measured cell up to 256 queries x 100k rows x 768 (1.97e10; docs/benchmarks.md §6), so the
 * default keeps every batch of that table on the CPU. A GPU wins far sooner: measure it and lower this.
 */
export const DEFAULT_DEVICE_MIN_WORK = 20_000_000_000; // floats compared: queries x rows x dim

export type ResolvedStoreOptions = Readonly<Required<StoreOptions>>;

const storeOptionsSchema = configSchema<Omit<ResolvedStoreOptions, 'onRebuild'> & Pick<StoreOptions, 'onRebuild'>>({
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1 },
    snapshotEveryOps: { type: 'integer', minimum: 1, default: 10_000 }, // writes
    compactRatio: { type: 'number', minimum: 0, maximum: 1, default: 0.2 },
    inlineSearchBudget: { type: 'integer', minimum: 0, default: 2_000_000 }, // floats read
    exactScanBytes: { type: 'integer', minimum: 0, default: DEFAULT_EXACT_SCAN_BYTES }, // bytes
    onRebuild: { instanceOf: 'Function' },
    device: { enum: DEVICES, default: 'cpu' },
    deviceMinWork: { type: 'integer', minimum: 0, default: DEFAULT_DEVICE_MIN_WORK }, // floats compared
    vectors: { enum: ['memory', 'disk'], default: 'memory' },
  },
});

function warnRebuild(event: RebuildEvent): void {
  process.emitWarning(`ragwire: collection ${event.collection}: index rebuilt from LMDB (${event.reason}: ${event.detail}; ${event.documents} documents)`, {
    code: 'RAGWIRE_SNAPSHOT_REBUILT',
  });
}

/** `options` over the defaults, every field checked; throws ConfigError naming the field. */
export function resolveStoreOptions(options: StoreOptions): ResolvedStoreOptions {
  return parseConfig(storeOptionsSchema, options, 'store option', (o) => ({ ...o, onRebuild: o.onRebuild ?? warnRebuild }));
}

/** How a collection snapshots and searches (the store's options, and where its snapshot lives). */
export interface CollectionOptions {
  /** The engine index's snapshot file; the text index's lies beside it (textSnapshotPath). */
  snapshotPath: string;
  /** Snapshot after this many writes since the last snapshot. */
  snapshotEveryOps: number;
  /** Compact the index before a snapshot when this share of its rows are deleted. */
  compactRatio: number;
  /** Collections (or allow-lists) with at most this many bytes of vectors are searched by an exact scan, whatever the index kind; 0: never planned. */
  exactScanBytes: number;
  /** A flat index on a device searches there only batches above this much work (queries x rows x dim). */
  deviceMinWork: number;
}
