import { describe, expect, it } from 'vitest';
import { evenShardMap } from './catalog';
import { bucketCounts, joiningMembers, planAddShard, planSetReplicas } from './rebalance-plan';

describe('rebalancing plans', () => {
  it('adds a shard with the fewest moves, every shard within one bucket of the mean, only to the new shard', () => {
    for (const [buckets, shards] of [
      [1024, 3],
      [1000, 3],
      [64, 5],
      [7, 2],
    ] as const) {
      const map = evenShardMap(
        buckets,
        Array.from({ length: shards }, (_, s) => [`s${s}`]),
      );
      const next = planAddShard(map, ['n0', 'n1']);
      const counts = bucketCounts(next);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      const moved = map.owner.filter((s, b) => s !== next.owner[b]);
      expect(moved.length).toBe(counts[shards]);
      expect(map.owner.every((s, b) => next.owner[b] === s || next.owner[b] === shards)).toBe(true);
      expect(joiningMembers(map, next)).toEqual(['n0', 'n1']);
    }
  });

  it('refuses members that already hold buckets, and a replica set that keeps none of the old', () => {
    const map = evenShardMap(16, [['a'], ['b']]);
    expect(() => planAddShard(map, ['a'])).toThrow(/already holds/);
    expect(() => planAddShard(map, [])).toThrow(/at least one/);
    expect(() => planSetReplicas(map, 0, ['x'])).toThrow(/keep at least one/);
    const next = planSetReplicas(map, 0, ['a', 'x']);
    expect(next.shards).toEqual([['a', 'x'], ['b']]);
    expect(next.owner).toEqual(map.owner);
    expect(joiningMembers(map, next)).toEqual(['x']);
  });
});
