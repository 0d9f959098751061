// The read side of a fleet on one shard server: for each collection in the catalog, an ordered consumer
// over the collection's stream from the store's applied position + 1. A message of a bucket this member
// holds (or of every bucket) is applied at its stream sequence, which the store commits in the same LMDB
// transaction (exactly once across restarts and kill -9); other buckets' messages are passed over.
// Rebalancing (docs/operations.md "Rebalancing a fleet"): a member given buckets by a pending move
// replays the log from its start for them; one that lost buckets drops their documents after the grace.
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  InternalError,
  InvalidArgumentError,
  ReplicaBehindError,
  LogTrimmedError,
  StaleEpochError,
  decodeFrame,
  isRagwireError,
  type DeleteRequest,
  type UpsertRequest,
} from '@ragwire/protocol';
import { EVERY_BUCKET, bucketOf, bucketOfSubject, streamName, DEFAULT_PREFIX } from './buckets';
import { DEFAULT_DROP_GRACE_MS, FleetCatalog, bucketsOfMember, bucketsToFollow, type CollectionSpec, type ShardMap } from './catalog';
import { SnapshotStore, bucketSetKey } from './snapshots';
import { scanBucketLag, type BucketLag } from './bucket-lag';

/** What the applier needs of a store (the shard server implements it over @ragwire/store). */
export interface ApplyTarget {
  /** Creates the collection if missing (same settings), so its log can be applied. */
  ensureCollection(spec: CollectionSpec): Promise<void>;
  /** The last log sequence the collection committed (0: none, or no such collection). */
  appliedSeq(collection: string): number;
  /** Applies one write at log sequence `seq`; a store refusal (typed error) still consumes the position. */
  apply(collection: string, seq: number, write: UpsertRequest | DeleteRequest): Promise<void>;
  /** Records, without a write, that the log up to `seq` holds nothing more for the collection (after every apply before it). */
  recordPosition(collection: string, seq: number): Promise<void>;
  /** The documents for which `keep` is true, as UPSERT frames (for a snapshot). Called between applies. */
  exportFrames(collection: string, keep: (id: string) => boolean): Uint8Array[];
  /** Deletes, outside the log, the documents for which `drop` is true (buckets that moved away); resolves to how many. */
  dropWhere(collection: string, drop: (id: string) => boolean): Promise<number>;
  /** Replaces the collection's documents by `writes` and records log position `seq`. */
  restore(collection: string, seq: number, writes: UpsertRequest[]): Promise<void>;
}

export interface LogApplierOptions {
  connection: NatsConnection;
  member: string;
  target: ApplyTarget;
  prefix?: string;
  /** Writes applied concurrently (lmdb-js commits them together, in order). Default 256. */
  window?: number;
  /** Upload a snapshot of each collection to the object store after this many log messages. Default 50,000. */
  snapshotEvery?: number;
  /** Told of a snapshot uploaded or restored. */
  onSnapshot?: (event: { collection: string; seq: number; documents: number; restored: boolean }) => void;
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

class CollectionFeed {
  processed: number;
  last = 0;
  trimmed = false;
  snapshotAt = 0;
  /** The buckets applied from the log; undefined: no shard map, every bucket. */
  owned: Set<number> | undefined;
  /** The buckets queries are answered for (the map's current layout); undefined: every bucket. */
  served: Set<number> | undefined;
  map: ShardMap | null = null;
  move: string | undefined;
  /** Bumped when the followed buckets grow: the log is read again from the store's position, and positions of the run before are ignored. */
  generation = 0;
  #run = new AbortController();
  #dropTimer: NodeJS.Timeout | undefined;
  readonly #waiters = new Set<{ seq: number; resolve: () => void }>();
  readonly #mapWaiters = new Set<() => void>();
  readonly #abort = new AbortController();

  constructor(
    readonly spec: CollectionSpec,
    readonly applier: LogApplier,
  ) {
    this.processed = applier.target.appliedSeq(spec.collection);
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Aborted when the current read of the log must end (stopped, or the followed buckets grew). */
  get runSignal(): AbortSignal {
    return this.#run.signal;
  }

  get epoch(): number {
    return this.map?.epoch ?? 0;
  }

  stop(): void {
    this.#abort.abort();
    this.#run.abort();
    clearTimeout(this.#dropTimer);
    for (const w of this.#waiters) w.resolve();
    for (const w of this.#mapWaiters) w();
  }

  setMap(map: ShardMap | null): void {
    const before = this.owned;
    const first = this.map === null;
    this.map = map;
    const owned = this.#bucketsToApply(before, map ? bucketsToFollow(map, this.applier.member) : undefined);
    this.owned = owned;
    this.served = map ? bucketsOfMember(map, this.applier.member) : undefined;
    this.move = map?.next?.id;
    for (const w of this.#mapWaiters) w();
    if (owned !== undefined && (first || (before !== undefined && [...before].some((b) => !owned.has(b))) || before === undefined)) this.#scheduleDrop();
  }

  /**
   * New buckets are followed only from the log's start (a store that applied nothing yet): applied from
   * the middle, their earlier writes would be missing. Refused, the member keeps the buckets it had.
   */
  #bucketsToApply(before: Set<number> | undefined, wanted: Set<number> | undefined): Set<number> | undefined {
    if (before === undefined || wanted === undefined || ![...wanted].some((b) => !before.has(b))) return wanted;
    return this.#restartFromStore() ? wanted : new Set([...before].filter((b) => wanted.has(b)));
  }

  /**
   * New buckets to follow: their writes before the store's position were passed over, so the log is read
   * again from the store's position. Only a member whose store applied nothing yet can take buckets.
   */
  #restartFromStore(): boolean {
    const { collection } = this.spec;
    const from = this.applier.target.appliedSeq(collection);
    if (from > 0) {
      this.applier.problem({
        collection,
        error: new InvalidArgumentError(
          `member ${this.applier.member} was given buckets of ${collection} but already applied its log up to ${from}: buckets move only to members with an empty store`,
        ),
      });
      return false;
    }
    // The running read stops before its next message: it must not apply the new buckets from where it is.
    this.generation++;
    this.processed = from;
    this.#run.abort();
    this.#run = new AbortController();
    return true;
  }

  #scheduleDrop(): void {
    clearTimeout(this.#dropTimer);
    const graceMs = this.map?.dropGraceMs ?? DEFAULT_DROP_GRACE_MS;
    this.#dropTimer = setTimeout(() => void this.#drop(), graceMs);
    this.#dropTimer.unref();
  }

  async #drop(): Promise<void> {
    const owned = this.owned;
    const { collection } = this.spec;
    if (owned === undefined || this.signal.aborted) return;
    const buckets = this.spec.buckets;
    try {
      const documents = await this.applier.target.dropWhere(collection, (id) => !owned.has(bucketOf(id, buckets)));
      this.applier.dropped({ collection, documents, epoch: this.epoch });
    } catch (error) {
      this.applier.problem({ collection, error });
    }
  }

  /** Waits (at most `timeoutMs`) for the map to reach `epoch`; true when it did. */
  async waitForEpoch(epoch: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.epoch < epoch && !this.signal.aborted) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = (): void => (clearTimeout(timer), this.#mapWaiters.delete(done), resolve());
        const timer = setTimeout(done, left);
        this.#mapWaiters.add(done);
      });
    }
    return this.epoch >= epoch;
  }

  owns(bucket: number | typeof EVERY_BUCKET): boolean {
    // A member that follows no bucket applies nothing, so its store stays at position 0 until it is given some.
    if (bucket === EVERY_BUCKET) return this.owned === undefined || this.owned.size > 0;
    return this.owned === undefined || this.owned.has(bucket);
  }

  /**
   * Commits the position reached by passing over other members' buckets, so a restart resumes from it: a
   * stream trimmed up to here is then no gap (docs/operations.md "Snapshots in the object store, trimmed
   * logs"). A member that follows no bucket keeps position 0, which is what lets it be given buckets.
   */
  async recordPosition(): Promise<void> {
    const { collection } = this.spec;
    const seq = this.processed;
    if (!this.owns(EVERY_BUCKET) || seq <= this.applier.target.appliedSeq(collection)) return;
    await this.applier.target.recordPosition(collection, seq);
  }

  advance(seq: number, generation = this.generation): void {
    if (generation !== this.generation || seq <= this.processed) return;
    this.processed = seq;
    if (seq > this.last) this.last = seq;
    for (const w of this.#waiters) if (w.seq <= seq) this.#waiters.delete(w), w.resolve();
  }

  waitFor(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.processed >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { seq, resolve: () => (clearTimeout(timer), resolve(this.processed >= seq)) };
      const timer = setTimeout(() => (this.#waiters.delete(w), resolve(false)), timeoutMs);
      this.#waiters.add(w);
    });
  }
}

export class LogApplier {
  readonly member: string;
  readonly target: ApplyTarget;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #prefix: string;
  readonly #window: number;
  readonly #onProblem: NonNullable<LogApplierOptions['onProblem']>;
  readonly #onSnapshot: NonNullable<LogApplierOptions['onSnapshot']>;
  readonly #onDrop: NonNullable<LogApplierOptions['onDrop']>;
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
    this.#onProblem = options.onProblem ?? (() => undefined);
    this.#onSnapshot = options.onSnapshot ?? (() => undefined);
    this.#onDrop = options.onDrop ?? (() => undefined);
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
      ...(f.move ? { move: f.move } : {}),
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

  /** Reports a problem through the owner's hook. */
  problem(event: { collection: string; seq?: number; error: unknown }): void {
    this.#onProblem(event);
  }

  /** Reports documents dropped after a move through the owner's hook. */
  dropped(event: { collection: string; documents: number; epoch: number }): void {
    this.#onDrop(event);
  }

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

  /** Uploads the collection's documents at the feed's position (nothing is being applied meanwhile). */
  async #upload(feed: CollectionFeed): Promise<void> {
    const { collection } = feed.spec;
    const seq = feed.processed;
    feed.snapshotAt = seq;
    try {
      const owned = feed.owned;
      const buckets = feed.spec.buckets;
      const frames = this.target.exportFrames(collection, owned === undefined ? () => true : (id) => owned.has(bucketOf(id, buckets)));
      await this.#snapshots!.put(collection, bucketSetKey(owned), seq, frames);
      this.#onSnapshot({ collection, seq, documents: -1, restored: false });
    } catch (error) {
      this.#onProblem({ collection, seq, error });
    }
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
    // A member that follows no bucket applies nothing, so a trim loses it nothing.
    if (info.state.messages > 0 && info.state.first_seq > from && feed.owns(EVERY_BUCKET)) {
      // Consuming now would skip the trimmed writes: load a snapshot of our buckets taken at or after
      // the trim point, then replay the log from its sequence.
      feed.trimmed = true;
      const key = bucketSetKey(feed.owned);
      const snapshot = await this.#snapshots!.get(collection, key);
      if (!snapshot || snapshot.seq + 1 < info.state.first_seq) {
        throw new LogTrimmedError(
          `the log of ${collection} starts at ${info.state.first_seq}, this replica applied up to ${from - 1}, and no snapshot of bucket set ${key} reaches it`,
        );
      }
      await this.target.restore(collection, snapshot.seq, snapshot.writes);
      feed.snapshotAt = snapshot.seq;
      feed.advance(snapshot.seq, generation);
      this.#onSnapshot({ collection, seq: snapshot.seq, documents: snapshot.writes.reduce((n, w) => n + w.ids.length, 0), restored: true });
      return this.#follow(feed);
    }
    feed.trimmed = false;
    // The stream holds only this collection's subjects: no filter (filter_subjects needs server 2.10).
    const consumer = await this.#js.consumers.get(stream, {
      deliver_policy: 'by_start_sequence' as never,
      opt_start_seq: from,
    });
    const messages = await consumer.consume({ max_messages: 512 });
    const stop = (): void => void messages.stop();
    run.addEventListener('abort', stop, { once: true });
    if (run.aborted) stop();
    // Each entry resolves true once its message and every earlier one were applied (or passed over).
    const inFlight: Promise<boolean>[] = [];
    let failure: unknown;
    const settle = (seq: number, done: Promise<boolean>): void => {
      const previous = inFlight.at(-1) ?? Promise.resolve(true);
      inFlight.push(Promise.all([previous, done]).then(([before, ok]) => before && ok && (feed.advance(seq, generation), true)));
    };
    try {
      for await (const m of messages) {
        // Restarted (new buckets to follow from the log's start): this read's buffered messages are not applied.
        if (run.aborted) break;
        if (failure !== undefined) throw failure;
        const seq = m.seq;
        const bucket = bucketOfSubject(m.subject);
        let write: UpsertRequest | DeleteRequest | undefined;
        if (feed.owns(bucket)) {
          try {
            const { message } = decodeFrame(m.data);
            if (message.type !== 'upsert' && message.type !== 'delete') throw new InternalError(`log message ${seq} of ${collection} is a ${message.type}`);
            write = message;
          } catch (error) {
            // No replica can apply it: passed over, and said.
            this.#onProblem({ collection, seq, error });
          }
        }
        if (write === undefined) settle(seq, Promise.resolve(true));
        else {
          settle(
            seq,
            this.target.apply(collection, seq, write).then(
              () => true,
              (error: unknown) => {
                // A refusal by the store (its 4xx errors) consumed the position: the same on every replica.
                if (isRagwireError(error) && error.status < 500) {
                  this.#onProblem({ collection, seq, error });
                  return true;
                }
                failure ??= error;
                return false;
              },
            ),
          );
        }
        if (inFlight.length >= this.#window) await inFlight.splice(0, inFlight.length - this.#window / 2).at(-1);
        if (messages.getPending() <= 1) {
          // this message is counted until the loop asks for the next
          // Nothing waiting: let the tail settle so positions (and read-your-writes) move without delay.
          await inFlight.at(-1);
          inFlight.length = 0;
          if (failure === undefined && !run.aborted) await feed.recordPosition();
          if (failure === undefined && feed.processed - feed.snapshotAt >= this.#snapshotEvery) await this.#upload(feed);
        }
      }
    } finally {
      run.removeEventListener('abort', stop);
      await Promise.all(inFlight);
    }
    if (failure !== undefined) throw failure;
  }
}
