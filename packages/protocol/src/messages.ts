// docs/protocol.md §4-§5: every message as a TypeScript type, discriminated by `type`.
import type { Filter } from './filter';
import type { Extension } from './trace-context';
import type { ProtocolLimits } from './limits';
import type { Fusion, SparseVector, TextSettings, TextStats } from './search';
import type { IndexKind, Metric, Storage } from './types';

/** A document's payload (docs/protocol.md §7): its text and JSON-like metadata. */
export interface Payload {
  text?: string;
  metadata?: Record<string, unknown>;
}

/** What DESCRIBE and CREATE answer with for one collection (docs/protocol.md §5.4). */
export interface CollectionInfo {
  name: string;
  dim: number;
  metric: Metric;
  kind: IndexKind;
  storage: Storage;
  /** Live documents. */
  count: number;
  /** Index parameters as the server applied them (m, efConstruction, ...). */
  params?: Record<string, number>;
}

// §5.1
export interface HelloRequest {
  type: 'hello';
  /** Protocol versions the client speaks. */
  versions: number[];
  /** Bearer token; required when the server has tokens configured. */
  token?: string;
  /** Client name and version, for the server's logs. */
  client?: string;
}
export interface HelloReply {
  type: 'hello_ok';
  /** The version both sides now speak. */
  version: number;
  server: string;
  /** The server's limits, so a client can split batches to fit. */
  limits?: Partial<ProtocolLimits>;
}

// §5.12
export interface ExtensionsRequest {
  type: 'extensions';
  /** Extensions the client asks to turn on for this connection; names the server does not know are skipped. */
  names: string[];
}
export interface ExtensionsReply {
  type: 'extensions_ok';
  /** The extensions now on for this connection: the asked ones this server knows and serves. */
  names: Extension[];
}

// §5.2
export interface CreateRequest {
  type: 'create';
  collection: string;
  dim: number;
  metric: Metric;
  kind: IndexKind;
  storage: Storage;
  params?: Record<string, number>;
  /** How the text index tokenizes and scores (docs/search.md §1). Default DEFAULT_TEXT_SETTINGS. */
  text?: TextSettings;
  /** Answer `created: false` instead of COLLECTION_EXISTS when it exists with the same settings. */
  ifNotExists?: boolean;
}
export interface CreateReply {
  type: 'create_ok';
  created: boolean;
  info: CollectionInfo;
}

// §5.3
export interface DropRequest {
  type: 'drop';
  collection: string;
  /** Answer `dropped: false` instead of UNKNOWN_COLLECTION when it does not exist. */
  ifExists?: boolean;
}
export interface DropReply {
  type: 'drop_ok';
  dropped: boolean;
}

// §5.4
export interface DescribeRequest {
  type: 'describe';
  /** One collection; absent: every collection on the server. */
  collection?: string;
}
export interface DescribeReply {
  type: 'describe_ok';
  collections: CollectionInfo[];
}

// §5.5
export interface UpsertRequest {
  type: 'upsert';
  collection: string;
  dim: number;
  /** n document ids; an existing id is replaced. */
  ids: string[];
  /** n x dim float32, row-major. Decoded: a view on the received frame. */
  vectors: Float32Array;
  /** n entries (null: no payload), or absent for none at all. */
  payloads?: (Payload | null)[];
  /** n sparse vectors (null: none), or absent for none at all (docs/search.md §2). */
  sparse?: (SparseVector | null)[];
}
export interface UpsertReply {
  type: 'upsert_ok';
  upserted: number;
  /** The collection's sequence number after this write. */
  seq: number;
}

// §5.6
/** Exactly one of `ids` and `filter`. */
/** Exactly one of `ids`, a non-empty `filter`, or `all: true` (every document of the collection). */
export interface DeleteRequest {
  type: 'delete';
  collection: string;
  ids?: string[];
  filter?: Filter;
  all?: true;
}
export interface DeleteReply {
  type: 'delete_ok';
  deleted: number;
  seq: number;
}

// §5.7
export interface QueryOptions {
  /** Return each hit's payload. Default false. */
  withPayload?: boolean;
  /** HNSW candidate list size (>= k for useful recall). Default: the collection's. */
  efSearch?: number;
  /** Exact (brute-force) search whatever the index kind. Default false. */
  exact?: boolean;
  /** Return each hit's stored vector (as written, full precision): MMR and re-ranking need them. Default false. */
  withVectors?: boolean;
  /**
   * Read-your-writes on a fleet (docs/architecture.md "Fleet"): answer only once the shard applied the
   * collection's write log up to this sequence, waiting a bounded time, else RAGWIRE_ERR_REPLICA_BEHIND.
   * Ignored by a shard that applies no log.
   */
  minSeq?: number;
  /**
   * Fleet: the shard-map epoch the client routed by. A shard whose map is newer refuses with
   * RAGWIRE_ERR_STALE_EPOCH (refresh the map and retry); one whose map is older waits a bounded time for
   * it. The shard then answers only documents of the buckets its shard owns at that epoch. Ignored by a
   * shard that applies no log.
   */
  epoch?: number;
}
export interface QueryRequest {
  type: 'query';
  collection: string;
  /** The query vectors' dimension; 0 when the queries have no dense part (text or sparse only). */
  dim: number;
  k: number;
  /** n x dim float32 query vectors, row-major. Decoded: a view on the received frame. */
  vectors: Float32Array;
  filter?: Filter;
  options?: QueryOptions;
  /** One BM25 query text per query (docs/search.md §3). */
  text?: string[];
  /** One sparse query vector per query (docs/search.md §2). */
  sparse?: SparseVector[];
  /** Candidates each branch of a hybrid query fetches before fusion. Default max(k, DEFAULT_PREFETCH). */
  prefetch?: number;
  /** How a query with several branches fuses them. Default rrf. */
  fusion?: Fusion;
  /** Global BM25 statistics to score with instead of the collection's own (a client over N shards). */
  textStats?: TextStats;
  /**
   * W3C `traceparent` of the caller's span for this query (§5.12): sent only on a connection that
   * turned the `trace` extension on; the client drops it elsewhere.
   */
  trace?: string;
}

// §5.8
/**
 * Columnar results of n queries: query i has `counts[i]` hits (<= k, best first); its hits are
 * ids/scores/payloads[offset_i, offset_i + counts[i]) where offset_i is the sum of earlier counts.
 */
export interface ResultReply {
  type: 'result';
  k: number;
  counts: Uint32Array;
  ids: string[];
  /** Higher is more similar, whatever the metric. */
  scores: Float32Array;
  /** Present when the query asked for payloads; one entry per hit. */
  payloads?: (Payload | null)[];
  /** Present when the query asked for vectors: sum(counts) x dim float32, row-major, one row per hit. */
  vectors?: Float32Array;
  /** True when the hits are exact (brute force at full precision: a flat index, `exact`, or a small collection). */
  exact?: boolean;
}

// §5.9
export interface StatsRequest {
  type: 'stats';
  collection?: string;
  /** With a collection: also report the BM25 statistics of these query texts' terms (docs/search.md §3). */
  text?: string[];
}
export type StatValue = number | string | boolean;
export interface StatsReply {
  type: 'stats_ok';
  /** Flat map: "docs", "index.bytes", "queries.total", ... */
  stats: Record<string, StatValue>;
}

// §5.10
export interface SnapshotRequest {
  type: 'snapshot';
  /** One collection; absent: every collection. */
  collection?: string;
}
export interface SnapshotInfo {
  collection: string;
  /** Last write sequence the snapshot contains. */
  seq: number;
  bytes: number;
}
export interface SnapshotReply {
  type: 'snapshot_ok';
  snapshots: SnapshotInfo[];
}

// §5.11
export interface ErrorReply {
  type: 'error';
  /** A RAGWIRE_ERR_* code (docs/errors.md). */
  code: string;
  message: string;
}

export type Request =
  | HelloRequest
  | ExtensionsRequest
  | CreateRequest
  | DropRequest
  | DescribeRequest
  | UpsertRequest
  | DeleteRequest
  | QueryRequest
  | StatsRequest
  | SnapshotRequest;

export type Response =
  | HelloReply
  | ExtensionsReply
  | CreateReply
  | DropReply
  | DescribeReply
  | UpsertReply
  | DeleteReply
  | ResultReply
  | StatsReply
  | SnapshotReply
  | ErrorReply;

export type Message = Request | Response;
export type MessageName = Message['type'];

/** The success reply each request type is answered with (any request may also get ERROR). */
export interface ReplyFor {
  hello: HelloReply;
  extensions: ExtensionsReply;
  create: CreateReply;
  drop: DropReply;
  describe: DescribeReply;
  upsert: UpsertReply;
  delete: DeleteReply;
  query: ResultReply;
  stats: StatsReply;
  snapshot: SnapshotReply;
}
