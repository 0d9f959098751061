import { describe, expect, it } from 'vitest';
import { evenShardMap, type ShardLayout } from './catalog';
import { bucketCounts, gainingMembers, joiningMembers, movedBuckets, planAddShard, planRemoveShard, planSetReplicas } from './rebalance-plan';

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

  it('removes a shard: only its buckets move, to the remaining shards, which end within one bucket of each other', () => {
    for (const [buckets, shards, removed] of [
      [1024, 4, 3],
      [1024, 4, 0],
      [1000, 3, 1],
      [64, 5, 2],
      [7, 2, 1],
    ] as const) {
      const map = evenShardMap(
        buckets,
        Array.from({ length: shards }, (_, s) => [`s${s}r0`, `s${s}r1`]),
      );
      const next = planRemoveShard(map, removed);
      const counts = bucketCounts(next);
      expect(counts.length).toBe(shards - 1);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(next.shards.flat()).not.toContain(`s${removed}r0`);
      // A bucket keeps its members unless it was the removed shard's.
      const membersOf = (layout: ShardLayout, b: number): string => layout.shards[layout.owner[b]!]!.join(',');
      map.owner.forEach((s, b) => {
        if (s !== removed) expect(membersOf(next, b)).toBe(membersOf(map, b));
      });
      expect(movedBuckets(map, next)).toBe(bucketCounts(map)[removed]);
      expect(joiningMembers(map, next)).toEqual([]);
      expect(gainingMembers(map, next).sort()).toEqual(next.shards.flat().sort());
    }
  });

  it('refuses to remove the only shard or an unknown one', () => {
    const map = evenShardMap(16, [['a'], ['b']]);
    expect(() => planRemoveShard(evenShardMap(16, [['a']]), 0)).toThrow(/leave no shard/);
    expect(() => planRemoveShard(map, 2)).toThrow(/integer in 0\.\.1/);
    expect(() => planRemoveShard(map, -1)).toThrow(/integer in 0\.\.1/);
    expect(() => planRemoveShard(map, 0.5)).toThrow(/integer in 0\.\.1/);
  });

  it('names as gaining members only those given buckets they do not hold', () => {
    const map = evenShardMap(16, [['a'], ['b']]);
    expect(gainingMembers(map, planAddShard(map, ['n']))).toEqual(['n']);
    expect(gainingMembers(map, planSetReplicas(map, 1, ['b', 'x']))).toEqual(['x']);
    expect(movedBuckets(map, planSetReplicas(map, 1, ['b', 'x']))).toBe(8);
  });
});
