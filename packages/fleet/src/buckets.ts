// Virtual buckets of a fleet collection and the NATS names derived from a collection
// (docs/architecture.md "Fleet"): ids hash to a fixed number of buckets, never re-hashed;
// the shard map assigns buckets to shard servers.
import { InvalidArgumentError, fnv1a64, jumpConsistentHash } from '@ragwire/protocol';

/** Virtual buckets per collection unless the fleet says otherwise. Fixed for a collection's life. */
export const DEFAULT_BUCKETS = 1024;
/** Subject prefix of every write log. */
export const DEFAULT_PREFIX = 'ragwire';
/** The subject token of a write that is not routed by id (a delete by filter or of everything): every replica applies it. */
export const EVERY_BUCKET = 'all';

/** The bucket in [0, buckets) of document `id`: jump consistent hash of its FNV-1a 64. */
export function bucketOf(id: string, buckets: number): number {
  const [hi, lo] = fnv1a64(id);
  return jumpConsistentHash(hi, lo, buckets);
}

/**
 * A collection name as one NATS token. Collection names are A-Z a-z 0-9 _ . - (the store's rule); a
 * dot separates subject tokens and is refused in stream names, so it becomes `=2E` ('=' never occurs in a name).
 */
export function collectionToken(collection: string): string {
  return collection.replaceAll('.', '=2E');
}

/** The stream holding `collection`'s write log. */
export function streamName(prefix: string, collection: string): string {
  return `${prefix.toUpperCase()}_${collectionToken(collection)}`;
}

/** The subject of writes to `bucket` (or every bucket) of `collection`: `<prefix>.<collection>.<bucket>`. */
export function bucketSubject(prefix: string, collection: string, bucket: number | typeof EVERY_BUCKET): string {
  return `${prefix}.${collectionToken(collection)}.${bucket}`;
}

/** The bucket a subject carries, or EVERY_BUCKET. Throws for a subject of no bucket. */
export function bucketOfSubject(subject: string): number | typeof EVERY_BUCKET {
  const token = subject.slice(subject.lastIndexOf('.') + 1);
  if (token === EVERY_BUCKET) return EVERY_BUCKET;
  const bucket = Number(token);
  if (!Number.isInteger(bucket) || bucket < 0) throw new InvalidArgumentError(`subject ${subject} names no bucket`);
  return bucket;
}

/** Checks a bucket count: a positive integer up to 65,536. */
export function checkBuckets(buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 65_536) throw new InvalidArgumentError(`buckets must be an integer in 1..65536, got ${buckets}`);
  return buckets;
}
