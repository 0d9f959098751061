// Rebalancing plans (docs/operations.md "Rebalancing a fleet"): the layout a shard map moves to when a
// shard is added or removed or a shard's replicas change. Buckets move whole; no id is re-hashed.
import { InvalidArgumentError } from '@ragwire/protocol';
import type { ShardLayout, ShardMap } from './catalog';

/** Buckets per shard under `layout`. */
export function bucketCounts(layout: ShardLayout): number[] {
  const counts = new Array<number>(layout.shards.length).fill(0);
  for (const s of layout.owner) counts[s]!++;
  return counts;
}

function checkNewMembers(map: ShardMap, members: string[]): void {
  if (new Set(members).size !== members.length) throw new InvalidArgumentError(`member ids repeat: ${members.join(',')}`);
  const taken = new Set(map.shards.flat());
  for (const m of members)
    if (taken.has(m)) throw new InvalidArgumentError(`member ${m} already holds buckets of this collection: a new shard needs new members`);
}

/**
 * A new shard of `members` taking the fewest buckets that leave every shard within one bucket of the
 * mean: each old shard gives its highest-numbered buckets above its target, and only to the new shard.
 */
export function planAddShard(map: ShardMap, members: string[]): ShardLayout {
  if (members.length === 0) throw new InvalidArgumentError('a new shard needs at least one member');
  checkNewMembers(map, members);
  const n = map.shards.length;
  const base = Math.floor(map.buckets / (n + 1));
  const extra = map.buckets % (n + 1);
  const counts = bucketCounts(map);
  // The shards that already hold the most keep the spare buckets (fewest moves).
  const order = counts.map((c, s) => [c, s] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const target = new Array<number>(n).fill(base);
  order.slice(0, extra).forEach(([, s]) => target[s]!++);
  const give = counts.map((c, s) => Math.max(0, c - target[s]!));
  const owner = [...map.owner];
  for (let b = owner.length - 1; b >= 0; b--) {
    const s = owner[b]!;
    if (give[s]! > 0) {
      give[s]!--;
      owner[b] = n;
    }
  }
  return { shards: [...map.shards.map((m) => [...m]), [...members]], owner };
}

/**
 * Shard `shard` removed: each of its buckets goes to the remaining shard that holds the fewest at that
 * point (ties: the lower index), so only its buckets move and the rest end within one bucket of each
 * other when they started so. The shards after it move down one index.
 */
export function planRemoveShard(map: ShardMap, shard: number): ShardLayout {
  checkShard(map, shard);
  if (map.shards.length === 1) throw new InvalidArgumentError(`shard ${shard} is the collection's only shard: removing it would leave no shard`);
  const counts = bucketCounts(map);
  counts[shard] = Number.POSITIVE_INFINITY;
  const owner = map.owner.map((s) => {
    if (s !== shard) return s;
    let to = 0;
    for (let t = 1; t < counts.length; t++) if (counts[t]! < counts[to]!) to = t;
    counts[to]!++;
    return to;
  });
  return { shards: map.shards.filter((_, s) => s !== shard).map((m) => [...m]), owner: owner.map((s) => (s > shard ? s - 1 : s)) };
}

function checkShard(map: ShardMap, shard: number): void {
  if (!Number.isInteger(shard) || shard < 0 || shard >= map.shards.length)
    throw new InvalidArgumentError(`shard must be an integer in 0..${map.shards.length - 1}, got ${shard}`);
}

/** Shard `shard` served by `members` instead: the members it keeps stay, new ones load its buckets first. */
export function planSetReplicas(map: ShardMap, shard: number, members: string[]): ShardLayout {
  checkShard(map, shard);
  if (members.length === 0) throw new InvalidArgumentError('a shard needs at least one member');
  if (new Set(members).size !== members.length) throw new InvalidArgumentError(`member ids repeat: ${members.join(',')}`);
  const kept = new Set(map.shards[shard]);
  checkNewMembers(
    map,
    members.filter((m) => !kept.has(m)),
  );
  if (!members.some((m) => kept.has(m)))
    throw new InvalidArgumentError(`keep at least one of shard ${shard}'s members (${map.shards[shard]!.join(',')}): it answers until the new ones caught up`);
  return { shards: map.shards.map((m, s) => (s === shard ? [...members] : [...m])), owner: [...map.owner] };
}

/** The members of `next` that hold buckets there they do not hold now: they must load them before the switch. */
export function joiningMembers(map: ShardLayout, next: ShardLayout): string[] {
  const now = new Set(map.shards.flat());
  return [...new Set(next.shards.flat())].filter((m) => !now.has(m));
}

/** The members that hold buckets under `next` they do not hold under `map` (new members, and the remaining shards of a removal): they load them before the switch. */
export function gainingMembers(map: ShardLayout, next: ShardLayout): string[] {
  const holders = (layout: ShardLayout, b: number): string[] => layout.shards[layout.owner[b]!]!;
  const gaining = new Set<string>();
  next.owner.forEach((_, b) => {
    const before = new Set(holders(map, b));
    for (const m of holders(next, b)) if (!before.has(m)) gaining.add(m);
  });
  return [...gaining];
}

/** Buckets whose members change between `map` and `next`. */
export function movedBuckets(map: ShardLayout, next: ShardLayout): number {
  return map.owner.filter((s, b) => map.shards[s]!.join(',') !== next.shards[next.owner[b]!]!.join(',')).length;
}
