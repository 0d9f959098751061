export {
  type Transport,
  type TransportHandlers,
  type TransportOptions,
  type TransportFactory,
  createTransport,
  registerTransport,
  parseShardUrl,
} from './transport';
export { SocketTransport, type StreamSocket, type Dial } from './socket-transport';
export { EmbeddedTransport, closeEmbeddedStores } from './embedded-transport';
export { dispatchToStore, type EmbeddedStore, type EmbeddedStoreModule } from './store-dispatch';
export { PipelinedConnection } from './connection';
export { Backoff, type BackoffOptions } from './backoff';
export { ShardClient, type ShardClientOptions, type RequestOptions } from './shard-client';
export { hedgedRequest, isReplicaFault, type HedgeOptions } from './hedged-request';
export { ShardedCollection, isShardedCollection, type ShardedCollectionOptions, type ShardedUpsert, type QueryTiming } from './sharded-collection';
export type { HybridFields, QueryTrace, ShardTraceSpan, ShardedQuery, ShardedResult } from './sharded-query';
export { fnv1a64, jumpConsistentHash, shardOf } from './jump-hash';
export { mergeTopK, type ColumnarHits } from './merge-top-k';
export { queryWithPredicate, type PayloadPredicate } from './predicate-query';
export { QueryCache, queryCacheKey, type QueryCacheOptions } from './query-cache';
export { upsertBatchesByShard, type ShardBatch } from './write-routing';
export { CollectionHandle, checkK, type CollectionHandleOptions, type CollectionTarget, type CollectionSpec, type SearchSettings } from './collection-handle';
export { checkSparseEncoder, encodeSparseDocuments, encodeSparseQuery, type SparseEncoder, type SparseWeights } from './sparse-encoder';
