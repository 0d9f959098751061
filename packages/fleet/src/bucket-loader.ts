// Loading the buckets a member is given (docs/operations.md "Rebalancing a fleet" and "Snapshots in the
// object store, trimmed logs"), before it applies them from the log with the rest.
//
// - A member whose store holds other buckets at log position L (a remaining shard taking a removed shard's
//   buckets) loads the new ones outside the position: it deletes what it holds of them, loads the
//   snapshot their current owners uploaded when the stream no longer starts at 1, and replays their
//   messages (and those of every bucket, restricted to them) up to L in order; the log after L applies
//   them with its other buckets.
// - A member with nothing usable (an empty store behind a trimmed stream, or one stopped past the trim)
//   replaces its documents by its buckets' documents from their owners' snapshots, records the oldest
//   snapshot's sequence, and replays the log after it.
//
// Why a replay may start before a bucket's snapshot: replaying a bucket's messages in order, from any
// position at or before its snapshot's sequence + 1, ends in the same documents whatever the bucket held
// at that position or later (an upsert replaces, a delete by id or filter applies to what is there when
// replayed, and anything a too-early delete removed is upserted again further on). So a load cut short
// (a restart, a changed map) simply starts again, and one snapshot per owning shard, each at its own
// sequence, is enough.
import type { JetStreamClient } from '@nats-io/jetstream';
import { LogTrimmedError, isRagwireError, type UpsertRequest } from '@ragwire/protocol';
import { decodeLogWrite, type ApplyTarget } from './apply-target';
import { EVERY_BUCKET, bucketOf, bucketOfSubject } from './buckets';
import { bucketsOfMember, bucketsToFollow, type ShardMap } from './catalog';
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

/** The documents of `write` for which `keep` is true, or undefined when none. */
function subset(write: UpsertRequest, keep: (id: string) => boolean): UpsertRequest | undefined {
  const rows = write.ids.flatMap((id, i) => (keep(id) ? [i] : []));
  if (rows.length === write.ids.length) return write;
  if (rows.length === 0) return undefined;
  const { dim } = write;
  const vectors = new Float32Array(rows.length * dim);
  rows.forEach((i, j) => vectors.set(write.vectors.subarray(i * dim, (i + 1) * dim), j * dim));
  return {
    ...write,
    ids: rows.map((i) => write.ids[i]!),
    vectors,
    ...(write.payloads ? { payloads: rows.map((i) => write.payloads![i] ?? null) } : {}),
    ...(write.sparse ? { sparse: rows.map((i) => write.sparse![i] ?? null) } : {}),
  };
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
 * Loads `load` (buckets the store holds none of yet) into a store at log position `through`: their
 * owners' snapshots when the stream starts past 1 (`first`), then their messages up to `through`.
 * Resolves false when `signal` stopped it first (the load is then started again).
 */
export async function loadBuckets(
  ctx: LoadContext,
  map: ShardMap,
  load: Set<number>,
  range: { first: number; through: number },
  signal: AbortSignal,
): Promise<{ loaded: boolean; documents: number; replayed: number }> {
  const { target, collection } = ctx;
  const inLoad = (id: string): boolean => load.has(bucketOf(id, ctx.buckets));
  await target.dropWhere(collection, inLoad);
  let at = new Map<number, number>([...load].map((b) => [b, 0]));
  let documents = 0;
  if (range.first > 1) {
    const snapshots = await ownersSnapshots(ctx, map, load, range.first);
    for (const w of snapshots.writes) await target.load(collection, w, () => true);
    at = snapshots.at;
    documents = snapshots.documents;
  }
  const start = Math.min(...at.values()) + 1;
  if (start > range.through) return { loaded: !signal.aborted, documents, replayed: 0 };
  const consumer = await ctx.js.consumers.get(ctx.stream, { deliver_policy: 'by_start_sequence' as never, opt_start_seq: start });
  const messages = await consumer.consume({ max_messages: 512 });
  const stop = (): void => void messages.stop();
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  let expected = start;
  let replayed = 0;
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
          try {
            await target.load(collection, write, within);
            replayed++;
          } catch (error) {
            // A refusal by the store (its 4xx errors): passed over, as at its position on every replica.
            if (!(isRagwireError(error) && error.status < 500)) throw error;
            ctx.onProblem({ collection, seq: m.seq, error });
          }
        }
      }
      if (m.seq >= range.through) break;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    stop();
  }
  if (signal.aborted) return { loaded: false, documents, replayed };
  if (expected <= range.through) throw new LogTrimmedError(`loading buckets of ${collection}: the log ended at ${expected - 1}, before ${range.through}`);
  return { loaded: true, documents, replayed };
}
