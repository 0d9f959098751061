import type { IndexKind, Metric, Storage } from '@ragwire/protocol';

export interface HnswParams {
  /** Links per node on the upper layers (layer 0 keeps 2*M). Default 16. */
  M?: number;
  /** Beam width while building. Default 200. */
  efConstruction?: number;
  /** Default beam width while searching; a search may override it. Default 64. */
  efSearch?: number;
  /** Seed of the level generator, for reproducible graphs. Default 42. */
  seed?: number;
  /**
   * Layer 0 keeps a copy of each neighbour's codes beside the node's links, so a hop reads one block
   * (docs/engine.md "Inline codes on layer 0"). Storage 'sq8' with metric l2, ip or cosine only; it adds 2*M
   * rows of codes per node. Default false.
   */
  inlineCodes?: boolean;
}

export interface BqParams {
  /** How many Hamming-nearest candidates get an exact rerank, as a multiple of k. Default 20 (at least 200 candidates). */
  rerankFactor?: number;
}

export interface IndexOptions {
  /** Vector dimension, 1..65536. */
  dim: number;
  metric: Metric;
  /** Default 'hnsw'. */
  kind?: IndexKind;
  /** Default 'f32'. Quantized storages keep an f32 copy for the final rerank. */
  storage?: Storage;
  hnsw?: HnswParams;
  bq?: BqParams;
  /**
   * Where flat search and hnsw builds run: 'cpu' (default), 'opencl', 'cuda', or 'auto' (a CUDA
   * device, else an OpenCL GPU, else the CPU). Flat: the device holds the rows (f32 or f16 storage)
   * and answers k <= 1024. HNSW: a graph built from empty (first add, compaction) is built from
   * device-computed exact kNN lists, then searched on the CPU; bq runs on the CPU only.
   * Naming a device this build or machine lacks throws DeviceUnavailableError.
   */
  device?: Device;
  /**
   * Rows the device holds and scans per pass; a larger base is streamed from host memory in tiles
   * of this many rows. Default: as many as fit half the device's memory.
   */
  deviceTileRows?: number;
  /**
   * A single-query search() estimated to read at most this many floats (flat: rows x dim; HNSW:
   * efSearch x 2M x dim; bq: its codes plus the rerank) runs on the calling thread and resolves at
   * once, skipping the two thread hand-offs of a pooled search (~50 us each); larger searches and
   * batches go to the engine's threads, so the event loop never waits long. 0 pools every search.
   * Default 2,000,000 (a few hundred microseconds at most).
   */
  inlineSearchBudget?: number;
  /**
   * Where the f32 rows live. 'memory' (default): in this process's memory. 'disk' (Qdrant's
   * `on_disk`): in the file at `vectorsPath`, memory-mapped and read only for the exact rerank of a
   * search's candidates (and while building the graph); the codes a search walks (sq8 or f16
   * storage, or a bq index's bits) and the graph stay in memory. Needs storage 'sq8' or 'f16', or
   * kind 'bq', and device 'cpu'.
   */
  vectors?: VectorPlacement;
  /**
   * vectors 'disk': the vector file. Created (replacing a file there) and held locked while the
   * index is open; a snapshot records its path and a checksum of the rows it covers.
   */
  vectorsPath?: string;
}

export type VectorPlacement = 'memory' | 'disk';

export type Device = 'cpu' | 'opencl' | 'cuda' | 'auto';

/** A device this build and machine have (devices()). */
export interface DeviceInfo {
  kind: 'cpu' | 'opencl' | 'cuda';
  name: string;
  /** Global memory (the host's RAM for the CPU). */
  memoryBytes: number;
  /** Largest single buffer the device allocates. */
  maxAllocBytes: number;
  /** Compute units, multiprocessors, or hardware threads. */
  computeUnits: number;
  /** A GPU or accelerator (PoCL's OpenCL device is a CPU). */
  gpu: boolean;
}

export interface SearchOptions {
  /** HNSW beam width for this search (>= k is used). */
  efSearch?: number;
  /** BQ rerank multiple for this search. */
  rerankFactor?: number;
  /**
   * Allow-list over labels: a bitset (bit `label` of byte `label >> 3`, LSB first)
   * or a sorted Uint32Array of labels. Only allowed labels are returned.
   */
  filter?: Uint8Array | Uint32Array;
  /**
   * HNSW: when the filter allows at most this many labels, the search scans
   * the allowed vectors exactly instead of walking the graph. Default 1000.
   */
  filterScanThreshold?: number;
  /** Scan every vector exactly (on f32), whatever the index kind. Default false. */
  exact?: boolean;
  /**
   * A flat index on a device: false runs this search on the CPU's kernels over the rows the index
   * keeps in host memory anyway (same results; faster for small batches). Ignored elsewhere. Default true.
   */
  onDevice?: boolean;
}

/**
 * Columnar results, row-major: query i's j-th hit is at i * k + j.
 * Empty slots hold NO_LABEL (0xFFFFFFFF) and -Infinity.
 * Scores are "higher = more similar" for every metric:
 * cosine: cosine similarity; ip: dot product; l2: minus the squared L2 distance; l1: minus the L1 distance.
 */
export interface SearchResult {
  labels: Uint32Array;
  scores: Float32Array;
  k: number;
}

export interface IndexStats {
  dim: number;
  metric: Metric;
  kind: IndexKind;
  storage: Storage;
  /** Live vectors (added and not removed). */
  count: number;
  /** Removed vectors still holding space until compact(). */
  deleted: number;
  /** Bytes held in memory: codes, graph, labels, and the f32 rows unless they are on disk. */
  memoryBytes: number;
  /** Bytes of f32 rows in the memory-mapped vector file (0 with vectors 'memory'). */
  mappedBytes: number;
  /** Where the f32 rows live, and (on disk) the vector file. */
  vectors: VectorPlacement;
  vectorsPath?: string;
  /** HNSW only: top layer of the graph. */
  maxLevel?: number;
  /** HNSW only: the graph's parameters, and the default efSearch of a search. */
  M?: number;
  efConstruction?: number;
  efSearch?: number;
  /** HNSW only: whether layer 0 keeps its neighbours' codes inline. */
  inlineCodes?: boolean;
  /** BQ only: candidates reranked per result. */
  rerankFactor?: number;
  isa: string;
  /** Where flat search runs: 'cpu', or the device's name. */
  device: string;
  deviceKind: 'cpu' | 'opencl' | 'cuda';
  /** Bytes held on the device: resident rows and norms, work buffers. */
  deviceMemoryBytes: number;
}

export interface SaveOptions {
  /** Opaque bytes stored in the snapshot and returned by loadIndex (e.g. a log sequence number). */
  userData?: Uint8Array;
}
