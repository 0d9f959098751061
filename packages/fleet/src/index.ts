export { DEFAULT_BUCKETS, DEFAULT_PREFIX, EVERY_BUCKET, bucketOf, bucketSubject, bucketOfSubject, streamName, collectionToken } from './buckets';
export { WriteLog, type WriteLogOptions, type LogUpsert, type LogDelete, type LogPosition } from './write-log';
export { connectNats, type NatsOptions } from './nats-connection';
export { FleetCatalog, evenShardMap, bucketsOfMember, type CollectionSpec, type ShardMap } from './catalog';
export { Membership, type MemberRecord } from './membership';
export { LogApplier, type ApplyTarget, type LogApplierOptions, type FeedState } from './log-applier';
export { SnapshotStore, bucketSetKey, type Snapshot } from './snapshots';
