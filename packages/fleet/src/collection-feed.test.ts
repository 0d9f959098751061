// Which buckets a member applies, loads and drops as its shard map changes (the bookkeeping side of a
// move; the log side runs against real processes in test/src/fleet-*.int.test.ts). The store is a fake
// ApplyTarget that only knows its position and records what is dropped.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ApplyTarget } from './apply-target';
import { bucketOf } from './buckets';
import { evenShardMap, type ShardMap } from './catalog';
import { CollectionFeed, type FeedHost } from './collection-feed';
import { planRemoveShard } from './rebalance-plan';

const BUCKETS = 16;
const spec = { collection: 'c', dim: 2, metric: 'cosine' as const, kind: 'flat' as const, storage: 'f32' as const, buckets: BUCKETS };

function host(member: string, position: number, ids: string[] = []): FeedHost & { droppedIds: string[]; problems: unknown[] } {
  const droppedIds: string[] = [];
  const problems: unknown[] = [];
  const target: ApplyTarget = {
    ensureCollection: async () => undefined,
    appliedSeq: () => position,
    apply: async () => undefined,
    applyGroup: async () => [],
    recordPosition: async () => undefined,
    exportFrames: () => [],
    async dropWhere(_c, drop) {
      const gone = ids.filter(drop);
      droppedIds.push(...gone);
      return gone.length;
    },
    load: async () => undefined,
    restore: async () => undefined,
  };
  return { member, target, droppedIds, problems, problem: (e) => void problems.push(e.error), dropped: () => undefined };
}

/** The map with shard `removed` of `map` pending removal. */
function removing(map: ShardMap, removed: number): ShardMap {
  return { ...map, next: { ...planRemoveShard(map, removed), id: 'move-1' } };
}

const ofShard = (map: ShardMap, s: number): number[] => map.owner.flatMap((o, b) => (o === s ? [b] : []));

describe('CollectionFeed', () => {
  const map = { ...evenShardMap(BUCKETS, [['a'], ['b'], ['c']]), dropGraceMs: 0 };

  it('loads the buckets a move gives a member that holds others before applying them, from its store position', () => {
    const h = host('a', 40);
    const feed = new CollectionFeed(spec, h);
    feed.setMap(map);
    expect([...feed.owned!].sort((x, y) => x - y)).toEqual(ofShard(map, 0));
    expect(feed.loading.size).toBe(0);
    feed.processed = 55; // passed over other shards' messages past the stored position
    const run = feed.runSignal;
    const generation = feed.generation;
    const pending = removing(map, 2);
    feed.setMap(pending);
    const gained = ofShard(map, 2).filter((b) => pending.next!.shards[pending.next!.owner[b]!]!.includes('a'));
    expect(gained.length).toBeGreaterThan(0);
    expect([...feed.loading].sort((x, y) => x - y)).toEqual(gained);
    // Not applied from the middle of the log: the read restarts at the store's position once they are loaded.
    for (const b of gained) expect(feed.owns(b)).toBe(false);
    expect(run.aborted).toBe(true);
    expect(feed.generation).toBe(generation + 1);
    expect(feed.processed).toBe(40);
    feed.finishLoading(gained);
    expect(feed.loading.size).toBe(0);
    for (const b of gained) expect(feed.owns(b)).toBe(true);
    // Serving follows the map's current layout: the loaded buckets answer only after the switch.
    expect(feed.served!.has(gained[0]!)).toBe(false);
  });

  it('replays from the log start, with nothing to load, when its store applied nothing yet', () => {
    const feed = new CollectionFeed(spec, host('a', 0));
    feed.setMap(map);
    feed.setMap(removing(map, 2));
    expect(feed.loading.size).toBe(0);
    expect(feed.processed).toBe(0);
    expect(feed.owned!.size).toBeGreaterThan(ofShard(map, 0).length);
  });

  it('loads again, after a restart, the buckets of a pending move it does not serve yet', () => {
    const pending = removing(map, 2);
    const feed = new CollectionFeed(spec, host('b', 40));
    feed.setMap(pending);
    expect(feed.loading.size).toBeGreaterThan(0);
    expect([...feed.owned!].sort((x, y) => x - y)).toEqual(ofShard(map, 1));
    // A member whose store holds only the move's buckets (a new one that was replaying) resumes from its position.
    const joined = { ...map, next: { shards: [['a'], ['b'], ['c', 'n']], owner: map.owner, id: 'move-2' } };
    const newcomer = new CollectionFeed(spec, host('n', 40));
    newcomer.setMap(joined);
    expect(newcomer.loading.size).toBe(0);
    expect([...newcomer.owned!].sort((x, y) => x - y)).toEqual(ofShard(map, 2));
  });

  it('keeps what it is loading when it drops buckets that moved away, and forgets a load whose move was aborted', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `d${i}`);
    const h = host('a', 40, ids);
    const feed = new CollectionFeed(spec, h);
    feed.setMap(map);
    const pending = removing(map, 2);
    feed.setMap(pending);
    await sleep(20); // the grace is 0 ms
    const kept = new Set([...feed.owned!, ...feed.loading]);
    expect(h.droppedIds.length).toBeGreaterThan(0);
    expect(h.droppedIds.every((id) => !kept.has(bucketOf(id, BUCKETS)))).toBe(true);
    expect(ids.filter((id) => kept.has(bucketOf(id, BUCKETS))).some((id) => feed.loading.has(bucketOf(id, BUCKETS)))).toBe(true);
    // abort-move: the map loses `next`; the load stops and what it loaded goes after the grace.
    const loadRun = feed.runSignal;
    const loading = new Set(feed.loading);
    h.droppedIds.length = 0;
    feed.setMap(map);
    expect(loadRun.aborted).toBe(true);
    expect(feed.loading.size).toBe(0);
    expect([...feed.owned!].sort((x, y) => x - y)).toEqual(ofShard(map, 0));
    await sleep(20);
    expect(h.droppedIds.some((id) => loading.has(bucketOf(id, BUCKETS)))).toBe(true);
    expect(h.droppedIds.every((id) => !feed.owned!.has(bucketOf(id, BUCKETS)))).toBe(true);
    feed.stop();
  });
});
