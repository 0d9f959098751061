// The read side of a fleet on one shard server: for each collection in the catalog, an ordered consumer
// over the collection's stream from the store's applied position + 1. A message of a bucket this member
// holds (or of every bucket) is applied at its stream sequence, which the store commits in the same LMDB
// transaction (exactly once across restarts and kill -9); other buckets' messages are passed over, and a
// gap (the stream trimmed past the read) restarts it from a snapshot. Consecutive messages read together
// are applied as one store write (apply-queue.ts). Rebalancing (docs/operations.md "Rebalancing a fleet"):
// a member given buckets by a pending move replays the log from its start for them when its store is
// empty, or loads them beside its read (bucket-loader.ts) when it holds others; collection-feed.ts keeps
// which buckets are followed and drops those that moved away.
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ReplicaBehindError, LogTrimmedError, StaleEpochError } from '@ragwire/protocol';
import { decodeLogWrite, type ApplyTarget } from './apply-target';
import { ApplyQueue } from './apply-queue';
import { loadBesideApplying, restoreFromOwners, type LoadContext } from './bucket-loader';
import { EVERY_BUCKET, bucketOf, bucketOfSubject, streamName, DEFAULT_PREFIX } from './buckets';
import { FleetCatalog } from './catalog';
import { CollectionFeed, type FeedHost } from './collection-feed';
import { SnapshotStore, bucketSetKey } from './snapshots';
import { retryNats } from './nats-errors';
import { scanBucketLag, type BucketLag } from './bucket-lag';

/** How long a snapshot upload that times out or finds no responder is tried again before the next pause of the log. */
const SNAPSHOT_RETRY_MS = 10_000;

export interface LogApplierOptions {
  connection: NatsConnection;
  member: string;
  target: ApplyTarget;
  prefix?: string;
  /** Log messages being applied concurrently (lmdb-js commits their store writes together, in order). Default 256. */
  window?: number;
  /**
   * Consecutive messages read together are applied as one store write of at most this many messages
   * and bytes (1: each message alone). Default 128 messages, 4 MiB.
   */
  group?: { messages?: number; bytes?: number };
  /** Upload a snapshot of each collection to the object store after this many log messages. Default 50,000. */
  snapshotEvery?: number;
  /** Told of a snapshot uploaded or restored. */
  onSnapshot?: (event: { collection: string; seq: number; documents: number; restored: boolean }) => void;
  /** Told of buckets loaded into a store that holds others (a move to an existing member), as the read of the log takes them over. */
  onLoad?: (event: { collection: string; buckets: number; through: number; documents: number; replayed: number; ms: number }) => void;
  /** Told of the documents of buckets that moved away, dropped after the map's grace. */
  onDrop?: (event: { collection: string; documents: number; epoch: number }) => void;
  /** Told of a write the store refused, or a feed that failed and restarts. */
  onProblem?: (event: { collection: string; seq?: number; error: unknown }) => void;
}

/** One collection's position in its log. */
export interface FeedState {
  collection: string;
  /** Every message up to here was applied or passed over. */
  processed: number;
  /** The stream's last sequence, as last seen. */
  last: number;
  /** The stream starts after the store's position: it was trimmed past it (restore from a snapshot). */
  trimmed: boolean;
  /** The last log sequence the store committed (0: it applied nothing yet). */
  stored: number;
  /** The shard-map epoch queries are answered by (0: no map). */
  epoch: number;
  /** The pending move whose buckets were followed from the log's start up to `processed`. */
  move?: string;
}

/** Where a stream starts (an empty stream: after its last message). */
function streamStart(state: { messages: number; first_seq: number; last_seq: number }): number {
  return state.messages > 0 ? state.first_seq : state.last_seq + 1;
}

export class LogApplier implements FeedHost {
  readonly member: string;
  readonly target: ApplyTarget;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #prefix: string;
  readonly #window: number;
  readonly #group: { messages: number; bytes: number };
  readonly #onProblem: NonNullable<LogApplierOptions['onProblem']>;
  readonly #onSnapshot: NonNullable<LogApplierOptions['onSnapshot']>;
  readonly #onDrop: NonNullable<LogApplierOptions['onDrop']>;
  readonly #onLoad: NonNullable<LogApplierOptions['onLoad']>;
  readonly #snapshotEvery: number;
  #snapshots: SnapshotStore | undefined;
  readonly #feeds = new Map<string, CollectionFeed>();
  readonly #abort = new AbortController();
  #jsm: JetStreamManager | undefined;
  #catalog: FleetCatalog | undefined;
  #poll: NodeJS.Timeout | undefined;

  constructor(options: LogApplierOptions) {
    this.#nc = options.connection;
    this.#js = jetstream(this.#nc);
    this.member = options.member;
    this.target = options.target;
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#window = options.window ?? 256;
    this.#group = { messages: options.group?.messages ?? 128, bytes: options.group?.bytes ?? 4 * 1024 * 1024 };
    this.#onProblem = options.onProblem ?? (() => undefined);
    this.#onSnapshot = options.onSnapshot ?? (() => undefined);
    this.#onDrop = options.onDrop ?? (() => undefined);
    this.#onLoad = options.onLoad ?? (() => undefined);
    this.#snapshotEvery = options.snapshotEvery ?? 50_000;
  }

  /** Opens the catalog and follows it: a feed per collection, started and stopped as collections come and go. */
  async start(): Promise<void> {
    this.#jsm = await jetstreamManager(this.#nc);
    this.#catalog = await FleetCatalog.open(this.#nc, { prefix: this.#prefix });
    this.#snapshots = await SnapshotStore.open(this.#nc, { prefix: this.#prefix });
    await this.#catalog.watchCollections((name, spec) => {
      const old = this.#feeds.get(name);
      if (spec === null) {
        old?.stop();
        this.#feeds.delete(name);
        return;
      }
      if (old) return;
      const feed = new CollectionFeed(spec, this);
      this.#feeds.set(name, feed);
      void this.#run(feed);
    }, this.#abort.signal);
    this.#poll = setInterval(() => void this.#refreshLast(), 1000);
    this.#poll.unref();
  }

  /** Each collection's position. */
  states(): FeedState[] {
    return [...this.#feeds.values()].map((f) => ({
      collection: f.spec.collection,
      processed: f.processed,
      last: f.last,
      trimmed: f.trimmed,
      stored: this.target.appliedSeq(f.spec.collection),
      epoch: f.epoch,
      // A move's buckets count as followed once loaded.
      ...(f.move && f.loading.size === 0 ? { move: f.move } : {}),
    }));
  }

  /**
   * Which documents a query routed by shard-map `epoch` may be answered with: those of the buckets this
   * member's shard holds at that epoch (undefined: every document, for a collection with no map or not
   * followed). RAGWIRE_ERR_STALE_EPOCH when the map moved past `epoch`; RAGWIRE_ERR_REPLICA_BEHIND when
   * this member has not seen `epoch` after `timeoutMs`.
   */
  async servedAt(collection: string, epoch: number, timeoutMs: number): Promise<((id: string) => boolean) | undefined> {
    const feed = this.#feeds.get(collection);
    if (!feed) return undefined;
    if (feed.epoch < epoch && !(await feed.waitForEpoch(epoch, timeoutMs))) {
      throw new ReplicaBehindError(
        `member ${this.member} holds shard map epoch ${feed.epoch} of ${collection}, the query was routed by epoch ${epoch} (waited ${timeoutMs} ms)`,
      );
    }
    if (feed.epoch > epoch)
      throw new StaleEpochError(`the shard map of ${collection} is at epoch ${feed.epoch}, the query was routed by epoch ${epoch}: refresh the map and retry`);
    const served = feed.served;
    if (served === undefined) return undefined;
    const buckets = feed.spec.buckets;
    return (id) => served.has(bucketOf(id, buckets));
  }

  /**
   * Messages past this member's position per bucket it follows (docs/operations.md "Lag per bucket"),
   * read from the stream's tail up to `maxScan` messages; undefined for a collection not followed.
   */
  async bucketLag(collection: string, maxScan?: number): Promise<BucketLag | undefined> {
    const feed = this.#feeds.get(collection);
    if (!feed) return undefined;
    const stream = streamName(this.#prefix, collection);
    const info = await this.#jsm!.streams.info(stream);
    const after = Math.max(feed.processed, info.state.first_seq - 1);
    if (info.state.messages === 0 || info.state.last_seq <= after) return { buckets: new Map(), scanned: 0, complete: true };
    return scanBucketLag(this.#js, {
      stream,
      after,
      through: info.state.last_seq,
      follows: (bucket) => feed.owns(bucket),
      ...(maxScan !== undefined ? { maxScan } : {}),
    });
  }

  /** Report a problem, or documents dropped after a move, through the owner's hooks. */
  problem = (event: { collection: string; seq?: number; error: unknown }): void => this.#onProblem(event);
  dropped = (event: { collection: string; documents: number; epoch: number }): void => this.#onDrop(event);

  /** True when every collection's feed is within `maxLag` messages of its stream's end (as last seen) and none is trimmed. */
  caughtUp(maxLag: number): boolean {
    for (const f of this.#feeds.values()) if (f.trimmed || f.last - f.processed > maxLag) return false;
    return true;
  }

  /**
   * Resolves once `collection`'s log is applied (or passed over) up to `seq`; a collection this server
   * does not follow resolves at once (nothing to wait for). RAGWIRE_ERR_REPLICA_BEHIND after `timeoutMs`.
   */
  async waitFor(collection: string, seq: number, timeoutMs: number): Promise<void> {
    const feed = this.#feeds.get(collection);
    if (!feed || feed.processed >= seq) return;
    if (!(await feed.waitFor(seq, timeoutMs))) {
      throw new ReplicaBehindError(`collection ${collection} is applied up to log sequence ${feed.processed}, the query needs ${seq} (waited ${timeoutMs} ms)`);
    }
  }

  async close(): Promise<void> {
    this.#abort.abort();
    clearInterval(this.#poll);
    for (const f of this.#feeds.values()) f.stop();
    this.#feeds.clear();
  }

  async #refreshLast(): Promise<void> {
    for (const f of this.#feeds.values()) {
      try {
        const info = await this.#jsm!.streams.info(streamName(this.#prefix, f.spec.collection));
        f.last = Math.max(f.last, info.state.last_seq);
        // An empty log past our position (every message passed over) counts as processed.
        if (info.state.messages === 0) f.advance(info.state.last_seq);
      } catch {
        // The stream may not exist yet, or NATS is away: the feed's own loop reports it.
      }
    }
  }

  /** Exports the collection's documents at the feed's position (nothing is being applied now); the upload goes on beside the read. */
  #upload(feed: CollectionFeed): void {
    const { collection, buckets } = feed.spec;
    const { processed: seq, snapshotAt: before, owned } = feed;
    feed.snapshotAt = seq;
    const failed = (error: unknown): void => {
      if (feed.snapshotAt === seq) feed.snapshotAt = before;
      this.#onProblem({ collection, seq, error });
    };
    let frames: Uint8Array[];
    try {
      frames = this.target.exportFrames(collection, owned === undefined ? () => true : (id) => owned.has(bucketOf(id, buckets)));
    } catch (error) {
      return failed(error);
    }
    // A NATS node restarting or a busy server: the upload is tried again for a while, then at the next pause.
    feed.uploading = retryNats(() => this.#snapshots!.put(collection, bucketSetKey(owned), seq, frames), SNAPSHOT_RETRY_MS)
      .then(() => this.#onSnapshot({ collection, seq, documents: -1, restored: false }), failed)
      .finally(() => (feed.uploading = undefined));
  }

  /** A collection with no shard map: the snapshot of every bucket (any replica's), then the log after it. */
  async #restoreOwnSet(feed: CollectionFeed, from: number, first: number, generation: number): Promise<void> {
    const { collection } = feed.spec;
    const key = bucketSetKey(feed.owned);
    const snapshot = await this.#snapshots!.get(collection, key);
    if (!snapshot || snapshot.seq + 1 < first) {
      throw new LogTrimmedError(
        `the log of ${collection} starts at ${first}, this replica applied up to ${from - 1}, and no snapshot of bucket set ${key} reaches it`,
      );
    }
    await this.target.restore(collection, snapshot.seq, snapshot.writes);
    feed.snapshotAt = snapshot.seq;
    feed.advance(snapshot.seq, generation);
    this.#onSnapshot({ collection, seq: snapshot.seq, documents: snapshot.writes.reduce((n, w) => n + w.ids.length, 0), restored: true });
  }

  #loadContext(feed: CollectionFeed): LoadContext {
    const { collection, buckets } = feed.spec;
    return {
      js: this.#js,
      snapshots: this.#snapshots!,
      target: this.target,
      stream: streamName(this.#prefix, collection),
      collection,
      buckets,
      onProblem: this.#onProblem,
    };
  }

  /** Follows one collection's log until stopped, restarting from the store's position after a failure. */
  async #run(feed: CollectionFeed): Promise<void> {
    const { collection } = feed.spec;
    // The map as it is now before any message (the watch then follows its changes).
    await this.#catalog!.shardMap(collection).then(
      (m) => feed.setMap(m?.map ?? null),
      (error: unknown) => this.#onProblem({ collection, error }),
    );
    await this.#catalog!.watchShardMap(collection, (map) => feed.setMap(map), feed.signal).catch((error: unknown) => this.#onProblem({ collection, error }));
    while (!feed.signal.aborted) {
      try {
        await this.target.ensureCollection(feed.spec);
        await this.#follow(feed);
      } catch (error) {
        if (feed.signal.aborted) break;
        this.#onProblem({ collection, error });
        await sleep(500);
      }
    }
  }

  async #follow(feed: CollectionFeed): Promise<void> {
    const { collection } = feed.spec;
    const generation = feed.generation;
    const run = feed.runSignal;
    if (run.aborted) return;
    const from = this.target.appliedSeq(collection) + 1;
    const stream = streamName(this.#prefix, collection);
    const info = await this.#jsm!.streams.info(stream);
    const first = streamStart(info.state);
    // A member that follows no bucket applies nothing, so a trim loses it nothing.
    if (info.state.messages > 0 && first > from && feed.owns(EVERY_BUCKET)) {
      // Consuming now would skip the trimmed writes: load a snapshot of our buckets taken at or after
      // the trim point, then replay the log from its sequence.
      feed.trimmed = true;
      if (feed.owned === undefined || feed.map === null) await this.#restoreOwnSet(feed, from, first, generation);
      else {
        // The snapshots of the shards that hold our buckets (our own shard's, and those a move brings).
        const load = new Set([...feed.owned, ...feed.loading]);
        const restored = await restoreFromOwners(this.#loadContext(feed), feed.map, load, first);
        feed.finishLoading(load);
        feed.snapshotAt = restored.seq;
        feed.advance(restored.seq, generation);
        this.#onSnapshot({ collection, seq: restored.seq, documents: restored.documents, restored: true });
      }
      return this.#follow(feed);
    }
    feed.trimmed = false;
    feed.taken = from - 1;
    // Buckets given to a member that holds others are loaded beside the read, which applies the others.
    const loads = new AbortController();
    const loader =
      feed.loading.size > 0 && feed.map !== null
        ? loadBesideApplying(
            { ...this.#loadContext(feed), streamStart: async () => streamStart((await this.#jsm!.streams.info(stream)).state) },
            feed,
            AbortSignal.any([run, loads.signal]),
            this.#onLoad,
          )
        : undefined;
    try {
      await this.#read(feed, generation, from);
    } finally {
      loads.abort();
      await loader;
    }
  }

  /** Reads the log from `from` and applies the messages of the buckets `feed` follows, until its run stops or a failure. */
  async #read(feed: CollectionFeed, generation: number, from: number): Promise<void> {
    const { collection } = feed.spec;
    const run = feed.runSignal;
    // The stream holds only this collection's subjects: no filter (filter_subjects needs server 2.10).
    const consumer = await this.#js.consumers.get(streamName(this.#prefix, collection), {
      deliver_policy: 'by_start_sequence' as never,
      opt_start_seq: from,
    });
    const messages = await consumer.consume({ max_messages: 512 });
    const stop = (): void => void messages.stop();
    run.addEventListener('abort', stop, { once: true });
    if (run.aborted) stop();
    const queue = new ApplyQueue(
      this.target,
      collection,
      { window: this.#window, group: this.#group },
      (seq) => feed.advance(seq, generation),
      this.#onProblem,
    );
    try {
      for await (const m of messages) {
        // Restarted (new buckets to follow from the log's start): this read's buffered messages are not applied.
        if (run.aborted) break;
        // A load handing its buckets over: they are applied from the next message on.
        if (feed.held) await feed.held;
        if (run.aborted) break;
        if (queue.failure !== undefined) throw queue.failure;
        const seq = m.seq;
        // A gap: the stream was trimmed past this read (a member that follows no bucket loses nothing by it).
        if (seq !== feed.taken + 1 && feed.owns(EVERY_BUCKET))
          throw new LogTrimmedError(`the log of ${collection} lost messages ${feed.taken + 1}..${seq - 1} before this member read them`);
        feed.taken = seq;
        const bucket = bucketOfSubject(m.subject);
        // A message no replica can apply is passed over, and said.
        const write = feed.owns(bucket) ? decodeLogWrite(m.data, collection, seq, this.#onProblem) : undefined;
        await queue.add(seq, m.data.length, write);
        if (messages.getPending() <= 1) {
          // Nothing waiting (this message counts until the loop asks for the next): apply what was read and
          // let it settle, so positions (and read-your-writes) move without delay.
          await queue.settle();
          if (queue.failure === undefined && !run.aborted) await feed.recordPosition();
          if (queue.failure === undefined && !feed.uploading && feed.owns(EVERY_BUCKET) && feed.processed - feed.snapshotAt >= this.#snapshotEvery)
            this.#upload(feed);
        }
      }
    } finally {
      run.removeEventListener('abort', stop);
      await queue.drain();
    }
    if (queue.failure !== undefined) throw queue.failure;
  }
}
