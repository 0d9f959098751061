// Moving buckets between shards while writes and queries go on (docs/operations.md "Rebalancing a
// fleet"): the layout to move to is put in the shard map as `next` (compare-and-set, epoch unchanged); the
// members it gives buckets load them (new members replay the log from its start or from their owners'
// snapshots, members that hold others load them first) while the current owners still answer; once each
// reported a position at or past the log's end as it was then, a second compare-and-set makes `next` the
// map with epoch + 1. The old owners drop what they gave away after the map's grace.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { InvalidArgumentError, ReplicaBehindError } from '@ragwire/protocol';
import { DEFAULT_PREFIX, streamName } from './buckets';
import { DEFAULT_DROP_GRACE_MS, FleetCatalog, type ShardLayout, type ShardMap } from './catalog';
import { Membership, type MemberRecord } from './membership';
import { logError } from './nats-errors';
import { bucketCounts, gainingMembers, joiningMembers, movedBuckets } from './rebalance-plan';

export interface RebalanceOptions {
  collection: string;
  prefix?: string;
  /** The members given buckets must catch up within this, else RAGWIRE_ERR_REPLICA_BEHIND (the move stays pending: resume or abort it). Default 300000 ms. */
  catchUpTimeoutMs?: number; // ms
  /** How long old owners keep the buckets they gave away. Default 30000 ms. */
  dropGraceMs?: number; // ms
  /** Told of each step. */
  onProgress?: (event: { step: 'pending' | 'caught-up' | 'switched'; epoch: number; detail?: Record<string, unknown> }) => void;
}

export interface RebalanceResult {
  collection: string;
  /** The map's epoch after the switch. */
  epoch: number;
  /** Buckets that changed shard. */
  moved: number;
  /** Buckets per shard after the switch. */
  buckets: number[];
  shards: string[][];
  /** The log position every member given buckets reached before the switch. */
  caughtUpTo: number;
  /** ms from the pending map to the switch. */
  catchUpMs: number;
}

/**
 * Moves `collection`'s map to the layout `plan` computes from it (or, with `plan` 'resume', to the pending
 * `next` left by an interrupted move). Fails with RAGWIRE_ERR_STALE_EPOCH when the map changed meanwhile.
 */
export async function rebalance(nc: NatsConnection, plan: ((map: ShardMap) => ShardLayout) | 'resume', options: RebalanceOptions): Promise<RebalanceResult> {
  const { collection } = options;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const catalog = await FleetCatalog.open(nc, { prefix });
  const membership = await Membership.open(nc, { prefix });
  const current = await catalog.shardMap(collection);
  if (!current) throw new InvalidArgumentError(`collection ${collection} has no shard map: put one with map-init`);
  let { map, revision } = current;
  let next = map.next;
  if (plan === 'resume') {
    if (!next) throw new InvalidArgumentError(`collection ${collection} has no pending move to resume`);
  } else {
    if (next) throw new InvalidArgumentError(`a move of ${collection} (${next.id}) is pending: resume it or abort it first`);
    const layout = plan(map);
    await checkGaining(membership, collection, joiningMembers(map, layout), gainingMembers(map, layout));
    next = { ...layout, id: randomUUID() };
    revision = await catalog.casShardMap(collection, { ...map, next }, revision);
    map = { ...map, next };
  }
  const t0 = Date.now();
  const gaining = gainingMembers(map, next);
  options.onProgress?.({ step: 'pending', epoch: map.epoch, detail: { move: next.id, gaining } });
  // Every write acknowledged before now is at or below this position.
  const target = await lastSeq(nc, prefix, collection);
  await waitCaughtUp(membership, collection, next.id, gaining, target, options.catchUpTimeoutMs ?? 300_000);
  options.onProgress?.({ step: 'caught-up', epoch: map.epoch, detail: { seq: target } });
  const final: ShardMap = {
    epoch: map.epoch + 1,
    buckets: map.buckets,
    shards: next.shards,
    owner: next.owner,
    dropGraceMs: options.dropGraceMs ?? map.dropGraceMs ?? DEFAULT_DROP_GRACE_MS,
  };
  await catalog.casShardMap(collection, final, revision);
  options.onProgress?.({ step: 'switched', epoch: final.epoch });
  return {
    collection,
    epoch: final.epoch,
    moved: movedBuckets(map, next),
    buckets: bucketCounts(final),
    shards: final.shards,
    caughtUpTo: target,
    catchUpMs: Date.now() - t0,
  };
}

/** Drops a pending move: the map goes back to its current layout (same epoch); members given buckets stop loading them and drop what they loaded after the grace. */
export async function abortMove(
  nc: NatsConnection,
  options: { collection: string; prefix?: string },
): Promise<{ collection: string; epoch: number; aborted: string | null }> {
  const catalog = await FleetCatalog.open(nc, { prefix: options.prefix ?? DEFAULT_PREFIX });
  const current = await catalog.shardMap(options.collection);
  if (!current?.map.next) return { collection: options.collection, epoch: current?.map.epoch ?? 0, aborted: null };
  const { next, ...map } = current.map;
  await catalog.casShardMap(options.collection, map, current.revision);
  return { collection: options.collection, epoch: map.epoch, aborted: next.id };
}

async function lastSeq(nc: NatsConnection, prefix: string, collection: string): Promise<number> {
  try {
    return (await (await jetstreamManager(nc)).streams.info(streamName(prefix, collection))).state.last_seq;
  } catch (error) {
    if (/not found/i.test(String(error))) return 0;
    throw logError('stream info', error);
  }
}

/**
 * Every member given buckets must be live; a joining one (not in the map yet) must hold nothing of the
 * collection: it replays the log from the start (or from its buckets' snapshots).
 */
async function checkGaining(membership: Membership, collection: string, joining: string[], gaining: string[]): Promise<void> {
  const live = new Map((await membership.members()).map((m) => [m.id, m]));
  for (const id of gaining) {
    const m = live.get(id);
    if (!m) throw new InvalidArgumentError(`member ${id} is not live (no heartbeat): start its shard server with --nats and --member ${id} first`);
    const stored = m.collections?.[collection]?.stored ?? 0;
    if (joining.includes(id) && stored > 0)
      throw new InvalidArgumentError(`member ${id} already applied ${collection}'s log up to ${stored}: a new member must start with an empty store`);
  }
}

async function waitCaughtUp(membership: Membership, collection: string, move: string, gaining: string[], target: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let behind: string[] = gaining;
  let seen: Record<string, number | null> = {};
  for (;;) {
    const records = new Map<string, MemberRecord>((await membership.members()).map((m) => [m.id, m]));
    seen = Object.fromEntries(
      gaining.map((id) => {
        const p = records.get(id)?.collections?.[collection];
        return [id, p?.move === move ? p.seq : null];
      }),
    );
    behind = gaining.filter((id) => (seen[id] ?? -1) < target);
    if (behind.length === 0) return;
    if (Date.now() > deadline) {
      throw new ReplicaBehindError(
        `members ${behind.join(', ')} did not load their buckets of ${collection} up to log position ${target} within ${timeoutMs} ms (positions ${JSON.stringify(seen)}); the move stays pending: resume or abort it`,
      );
    }
    await sleep(250);
  }
}
