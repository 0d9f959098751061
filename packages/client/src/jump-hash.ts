// Routing a document id to a shard: the protocol's id hash (FNV-1a 64, jump consistent hash) over the shard count.
import { fnv1a64, jumpConsistentHash } from '@ragwire/protocol';

export { fnv1a64, jumpConsistentHash };

/** The shard in [0, shards) that owns document `id`. */
export function shardOf(id: string, shards: number): number {
  if (shards === 1) return 0;
  const [hi, lo] = fnv1a64(id);
  return jumpConsistentHash(hi, lo, shards);
}
