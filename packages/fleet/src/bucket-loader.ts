// Loading the buckets a member is given (docs/operations.md "Rebalancing a fleet" and "Snapshots in the
// object store, trimmed logs"), before it applies them from the log with the rest.
//
// - A member whose store holds other buckets (a remaining shard taking a removed shard's buckets) loads
//   the new ones outside its position while its read of the log goes on applying the others: it deletes
//   what it holds of them, loads the snapshots their current owners uploaded when the stream no longer
//   starts at 1, replays their messages (and those of every bucket, restricted to them) up to where the
//   read is, then those the read passed over meanwhile; the read is held only for the last few, and
//   applies the new buckets with the others from its next message.
// - A member with nothing usable (an empty store behind a trimmed stream, or one stopped past the trim)
//   replaces its documents by its buckets' documents from their owners' snapshots, records the oldest
//   snapshot's sequence, and replays the log after it.
//
// Why a replay may start before a bucket's snapshot: replaying a bucket's messages in order, from any
// position at or before its snapshot's sequence + 1, ends in the same documents whatever the bucket held
// at that position or later (an upsert replaces, a delete by id or filter applies to what is there when
// replayed, and anything a too-early delete removed is upserted again further on). So a load cut short
// (a restart, a changed map) simply starts again, one snapshot per owning shard, each at its own
// sequence, is enough, and a delete of every bucket the read applies to the new buckets' documents
// before the load reached it changes nothing either.
import { setTimeout as sleep } from 'node:timers/promises';
import type { JetStreamClient } from '@nats-io/jetstream';
import { LogTrimmedError, type UpsertRequest } from '@ragwire/protocol';
import { decodeLogWrite, type ApplyTarget } from './apply-target';
import { EVERY_BUCKET, bucketOf, bucketOfSubject } from './buckets';
import { bucketsOfMember, bucketsToFollow, type ShardMap } from './catalog';
import { LoadBatch, subset } from './load-batch';
import { bucketSetKey, type Snapshot, type SnapshotStore } from './snapshots';

export interface LoadContext {
  js: JetStreamClient;
  snapshots: SnapshotStore;
  target: ApplyTarget;
  /** The collection's stream. */
  stream: string;
  collection: string;
  /** Virtual buckets of the collection. */
  buckets: number;
  /** Told of a message the store refused (it is passed over, as every replica does). */
  onProblem: (event: { collection: string; seq?: number; error: unknown }) => void;
}

/** Documents of some buckets from their owners' snapshots; `at[b]` is the log sequence bucket b's documents are at. */
interface OwnersSnapshots {
  writes: UpsertRequest[];
  at: Map<number, number>;
  documents: number;
}

/**
 * The documents of `load` from the latest snapshots uploaded by the members of the shards that hold them
 * under `map`, each at or past `first` - 1 (the log after it is still there). RAGWIRE_ERR_LOG_TRIMMED
 * when an owning shard has none that reaches.
 */
async function ownersSnapshots(ctx: LoadContext, map: ShardMap, load: Set<number>, first: number): Promise<OwnersSnapshots> {
  const byShard = new Map<number, Set<number>>();
  for (const b of load) {
    const s = map.owner[b]!;
    if (!byShard.has(s)) byShard.set(s, new Set());
    byShard.get(s)!.add(b);
  }
  const fetched = new Map<string, Promise<Snapshot | undefined>>();
  const out: OwnersSnapshots = { writes: [], at: new Map(), documents: 0 };
  for (const [shard, wanted] of byShard) {
    // Members of a shard upload under the set they follow: the shard's buckets, plus a pending move's.
    const keys = new Set(map.shards[shard]!.flatMap((m) => [bucketSetKey(bucketsOfMember(map, m)), bucketSetKey(bucketsToFollow(map, m))]));
    let best: Snapshot | undefined;
    for (const key of keys) {
      if (!fetched.has(key)) fetched.set(key, ctx.snapshots.get(ctx.collection, key));
      const s = await fetched.get(key)!;
      if (s && s.seq + 1 >= first && (!best || s.seq > best.seq)) best = s;
    }
    if (!best) {
      throw new LogTrimmedError(
        `the log of ${ctx.collection} starts at ${first} and no snapshot of shard ${shard} (members ${map.shards[shard]!.join(',')}) reaches it: its members upload one every --fleet-snapshot-every messages`,
      );
    }
    for (const w of best.writes) {
      const part = subset(w, (id) => wanted.has(bucketOf(id, ctx.buckets)));
      if (part) out.writes.push(part), (out.documents += part.ids.length);
    }
    for (const b of wanted) out.at.set(b, best.seq);
  }
  return out;
}

/**
 * Replaces the store's documents by those of `load` (every bucket the member follows) from their owners'
 * snapshots and records the oldest snapshot's sequence; the log is then read after it.
 */
export async function restoreFromOwners(ctx: LoadContext, map: ShardMap, load: Set<number>, first: number): Promise<{ seq: number; documents: number }> {
  const snapshots = await ownersSnapshots(ctx, map, load, first);
  const seq = Math.min(...snapshots.at.values());
  await ctx.target.restore(ctx.collection, seq, snapshots.writes);
  return { seq, documents: snapshots.documents };
}

/**
 * Loads `load` (buckets the store holds none of yet) up to log position `through`: their owners'
 * snapshots when the stream starts past 1 (`first`), then their messages up to `through`.
 * Resolves false when `signal` stopped it first (the load is then started again).
 */
async function loadBuckets(
  ctx: LoadContext,
  map: ShardMap,
  load: Set<number>,
  range: { first: number; through: number },
  signal: AbortSignal,
): Promise<{ loaded: boolean; documents: number; replayed: number }> {
  const { target, collection } = ctx;
  await target.dropWhere(collection, (id) => load.has(bucketOf(id, ctx.buckets)));
  let at = new Map<number, number>([...load].map((b) => [b, 0]));
  let documents = 0;
  if (range.first > 1) {
    const snapshots = await ownersSnapshots(ctx, map, load, range.first);
    const batch = new LoadBatch(target, collection, (error) => ctx.onProblem({ collection, error }));
    for (const w of snapshots.writes) await batch.add(w, () => true);
    await batch.flush();
    at = snapshots.at;
    documents = snapshots.documents;
  }
  const replay = await replayBuckets(ctx, load, at, range.through, signal);
  return { loaded: replay.complete, documents, replayed: replay.replayed };
}

/**
 * Replays the messages of `load` after `at[b]` (bucket b's documents are at that position) up to
 * `through`, restricted to those buckets, outside the store's position. `complete` is false when
 * `signal` stopped it first. RAGWIRE_ERR_LOG_TRIMMED when the stream no longer holds them.
 */
async function replayBuckets(
  ctx: LoadContext,
  load: Set<number>,
  at: Map<number, number>,
  through: number,
  signal: AbortSignal,
): Promise<{ complete: boolean; replayed: number }> {
  const { target, collection } = ctx;
  const start = Math.min(...at.values()) + 1;
  if (start > through) return { complete: !signal.aborted, replayed: 0 };
  const consumer = await ctx.js.consumers.get(ctx.stream, { deliver_policy: 'by_start_sequence' as never, opt_start_seq: start });
  const messages = await consumer.consume({ max_messages: 512 });
  const stop = (): void => void messages.stop();
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  let expected = start;
  let replayed = 0;
  const batch = new LoadBatch(target, collection, (error) => ctx.onProblem({ collection, error }));
  try {
    for await (const m of messages) {
      if (signal.aborted) break;
      // A gap: the stream was trimmed past the load meanwhile; it starts again from newer snapshots.
      if (m.seq !== expected)
        throw new LogTrimmedError(`loading buckets of ${collection}: log message ${expected} is gone (the stream now continues at ${m.seq})`);
      expected++;
      const bucket = bucketOfSubject(m.subject);
      const within =
        bucket === EVERY_BUCKET
          ? (id: string) => {
              const b = bucketOf(id, ctx.buckets);
              return load.has(b) && at.get(b)! < m.seq;
            }
          : load.has(bucket) && at.get(bucket)! < m.seq
            ? () => true
            : undefined;
      if (within) {
        const write = decodeLogWrite(m.data, collection, m.seq, ctx.onProblem);
        if (write) {
          await batch.add(write, within);
          replayed++;
        }
      }
      if (m.seq >= through) break;
    }
    if (!signal.aborted) await batch.flush();
  } finally {
    signal.removeEventListener('abort', stop);
    stop();
  }
  if (signal.aborted) return { complete: false, replayed };
  if (expected <= through) throw new LogTrimmedError(`loading buckets of ${collection}: the log ended at ${expected - 1}, before ${through}`);
  return { complete: true, replayed };
}

/** What loading buckets beside the log's application needs of a collection's feed (collection-feed.ts). */
export interface LoadingFeed {
  readonly map: ShardMap | null;
  /** The buckets to load. */
  readonly loading: Set<number>;
  /** The last log message the running read decided on (it passed over the buckets being loaded up to here). */
  readonly taken: number;
  /** Holds the running read before its next message until the returned function is called. */
  hold(): () => void;
  /** The loaded buckets are applied by the running read from its next message on. */
  finishLoading(loaded: Iterable<number>): void;
}

/** Messages the running read may still be ahead of a load when it is held for the hand-over. */
const HANDOVER_GAP = 512; // messages

/**
 * Loads the buckets `feed` is given while the running read of the log goes on applying the others: the
 * owners' snapshots and the log up to where the read is, then the messages it passed over meanwhile,
 * until it is less than HANDOVER_GAP ahead; then the read is held for the last ones and applies the
 * loaded buckets from its next message. A failure (a trim past the load) starts it again, from newer
 * snapshots. Resolves when loaded, or when `signal` stopped it.
 */
export async function loadBesideApplying(
  ctx: LoadContext & { streamStart(): Promise<number> },
  feed: LoadingFeed,
  signal: AbortSignal,
  onLoad: (event: { collection: string; buckets: number; through: number; documents: number; replayed: number; ms: number }) => void,
): Promise<void> {
  const { collection } = ctx;
  while (!signal.aborted && feed.map !== null && feed.loading.size > 0) {
    const load = new Set(feed.loading);
    const t0 = Date.now();
    try {
      let through = feed.taken;
      const done = await loadBuckets(ctx, feed.map, load, { first: await ctx.streamStart(), through }, signal);
      if (!done.loaded) return;
      let { replayed } = done;
      const passed = new Map([...load].map((b) => [b, through]));
      const catchUp = async (to: number): Promise<boolean> => {
        for (const b of load) passed.set(b, through);
        const r = await replayBuckets(ctx, load, passed, to, signal);
        replayed += r.replayed;
        through = to;
        return r.complete;
      };
      while (feed.taken - through > HANDOVER_GAP) if (!(await catchUp(feed.taken))) return;
      const release = feed.hold();
      try {
        if (!(await catchUp(feed.taken))) return;
        feed.finishLoading(load);
      } finally {
        release();
      }
      onLoad({ collection, buckets: load.size, through, documents: done.documents, replayed, ms: Date.now() - t0 });
      return;
    } catch (error) {
      if (signal.aborted) return;
      ctx.onProblem({ collection, error });
      await sleep(500);
    }
  }
}
