// What a sharded collection is asked (dense, text, sparse and hybrid queries) and what it answers:
// the merged hits of every shard.
import type { Filter, Fusion, QueryOptions, SparseVector, TextStats } from '@ragwire/protocol';
import type { ColumnarHits } from './merge-top-k';

/** The lexical and fusion fields of a query (docs/search.md §3). */
export interface HybridFields {
  /** One BM25 query text per query. */
  text?: string[];
  /** One sparse query vector per query. */
  sparse?: SparseVector[];
  /** Candidates per branch before fusion; default max(k, DEFAULT_PREFETCH). */
  prefetch?: number;
  /** How several branches fuse; default rrf (k 60). */
  fusion?: Fusion;
  /** Global BM25 statistics; filled in by the client over several shards. */
  textStats?: TextStats;
}

/** One shard's part of a traced query: the context its frames carry, ended when the shard answered or failed. */
export interface ShardTraceSpan {
  /** W3C `traceparent` sent in this shard's QUERY frames (docs/protocol.md §5.12), the parent of the shard server's span. */
  traceparent: string;
  end(error?: Error): void;
}

/**
 * A caller's tracer for one query: the client makes no span itself, it asks for one per shard as it
 * sends, and passes that span's context down. The context reaches shard servers whose connections
 * turned the `trace` extension on (ShardClientOptions.extensions); others never see it.
 */
export interface QueryTrace {
  shard(index: number): ShardTraceSpan;
}

export interface ShardedQuery extends HybridFields {
  /** n x dim query vectors, row-major; may be empty beside `text` or `sparse` (docs/search.md §3). */
  vectors: Float32Array;
  k: number;
  filter?: Filter;
  options?: QueryOptions;
  /** Ask each shard for ceil(k x oversample) hits (ANN recall after the merge). Default 1. */
  oversample?: number;
  /** With a log: see at least the writes up to this log position (another session's `lastSeq`). */
  minSeq?: number;
  /** Trace the query: one span per shard, from the caller's tracer. Default: none. */
  trace?: QueryTrace;
}

/** Merged hits of n queries (see ResultReply) and which shards, if any, did not answer. */
export interface ShardedResult extends ColumnarHits {
  k: number;
  /** True when some shard had no replica answering and `partial: 'allow'` was chosen. */
  partial: boolean;
  /** Indices (into `shards`) of the shards missing from this result. */
  missingShards: number[];
  /** True when every shard answered exactly (flat index, `exact`, or a collection under the store's exact-scan size). */
  exact?: boolean;
}
