export { DEFAULT_BUCKETS, DEFAULT_PREFIX, EVERY_BUCKET, bucketOf, bucketSubject, bucketOfSubject, streamName, collectionToken } from './buckets';
export { WriteLog, type WriteLogOptions, type LogUpsert, type LogDelete, type LogPosition } from './write-log';
export { connectNats, type NatsOptions } from './nats-connection';
export { isRetryableNatsFailure, retryNats } from './nats-errors';
export {
  FleetCatalog,
  evenShardMap,
  bucketsOfMember,
  bucketsToFollow,
  DEFAULT_DROP_GRACE_MS,
  type CollectionSpec,
  type ShardMap,
  type ShardLayout,
} from './catalog';
export { Membership, type MemberRecord, type MemberPosition } from './membership';
export { LogApplier, type LogApplierOptions, type FeedState } from './log-applier';
export type { ApplyTarget, SequencedWrite } from './apply-target';
export { SnapshotStore, bucketSetKey, type Snapshot } from './snapshots';
export { rebalance, abortMove, type RebalanceOptions, type RebalanceResult } from './rebalance';
export { planAddShard, planRemoveShard, planSetReplicas, bucketCounts, joiningMembers, gainingMembers } from './rebalance-plan';
export type { BucketLag } from './bucket-lag';
