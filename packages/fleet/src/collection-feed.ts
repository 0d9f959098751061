// One collection's place in its write log on one member (docs/operations.md "Rebalancing a fleet"): which
// buckets it applies and which it answers queries for under the shard map, the position every message up
// to was applied or passed over, the waiters on that position and on the map's epoch, and the drop of the
// documents of buckets that moved away after the grace. The applier (log-applier.ts) reads the log.
import type { ApplyTarget } from './apply-target';
import { EVERY_BUCKET, bucketOf } from './buckets';
import { DEFAULT_DROP_GRACE_MS, bucketsOfMember, bucketsToFollow, type CollectionSpec, type ShardMap } from './catalog';

/** What a feed needs of the applier that reads its log. */
export interface FeedHost {
  readonly member: string;
  readonly target: ApplyTarget;
  /** Reports a problem through the owner's hook. */
  problem(event: { collection: string; seq?: number; error: unknown }): void;
  /** Reports documents dropped after a move through the owner's hook. */
  dropped(event: { collection: string; documents: number; epoch: number }): void;
}

export class CollectionFeed {
  processed: number;
  last = 0;
  trimmed = false;
  snapshotAt = 0;
  /** The snapshot upload in flight (one at a time; the read goes on meanwhile). */
  uploading: Promise<void> | undefined;
  /** The buckets applied from the log; undefined: no shard map, every bucket. */
  owned: Set<number> | undefined;
  /** The buckets queries are answered for (the map's current layout); undefined: every bucket. */
  served: Set<number> | undefined;
  map: ShardMap | null = null;
  move: string | undefined;
  /** Buckets given to this member while its store held others: loaded (bucket-loader.ts) before they are applied from the log. */
  readonly loading = new Set<number>();
  #mapSeen = false;
  /** Buckets were being loaded that the map no longer gives this member: their documents go after the grace. */
  #dropLoaded = false;
  /** The last log message the running read decided on (applied, or passed over for buckets being loaded). */
  taken = 0;
  #held: Promise<void> | undefined;
  /** Bumped when the followed buckets grow: the log is read again from the store's position, and positions of the run before are ignored. */
  generation = 0;
  #run = new AbortController();
  #dropTimer: NodeJS.Timeout | undefined;
  readonly #waiters = new Set<{ seq: number; resolve: () => void }>();
  readonly #mapWaiters = new Set<() => void>();
  readonly #abort = new AbortController();

  constructor(
    readonly spec: CollectionSpec,
    readonly applier: FeedHost,
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
    const start = !this.#mapSeen;
    this.#mapSeen = true;
    this.map = map;
    this.served = map ? bucketsOfMember(map, this.applier.member) : undefined;
    const owned = this.#bucketsToApply(before, map ? bucketsToFollow(map, this.applier.member) : undefined, start);
    // Snapshots are kept per bucket set: a new set uploads its first at the next pause of the log, so a
    // move out of a trimmed stream soon finds one (bucket-loader.ts).
    if (before !== undefined && owned !== undefined && (before.size !== owned.size || [...owned].some((b) => !before.has(b))))
      this.snapshotAt = Number.NEGATIVE_INFINITY;
    this.owned = owned;
    this.move = map?.next?.id;
    for (const w of this.#mapWaiters) w();
    const lost = before !== undefined && [...before].some((b) => !owned?.has(b));
    if (owned !== undefined && (first || lost || before === undefined || this.#dropLoaded)) this.#scheduleDrop();
    this.#dropLoaded = false;
  }

  /**
   * The buckets to apply from the log now. New buckets cannot be applied from the middle of the log
   * (their earlier writes would be missing): a store that applied nothing yet reads the log again from
   * its start; one that holds other buckets loads the new ones first (`loading`, bucket-loader.ts) and
   * applies them from its position once they are loaded. At start, buckets a pending move gives a member
   * that already serves others are loaded again: a load is not recorded, so it may have been cut short.
   */
  #bucketsToApply(before: Set<number> | undefined, wanted: Set<number> | undefined, start: boolean): Set<number> | undefined {
    if (wanted === undefined) {
      this.loading.clear();
      return undefined;
    }
    const stored = this.applier.target.appliedSeq(this.spec.collection);
    const forgotten = [...this.loading].filter((b) => !wanted.has(b));
    if (forgotten.length > 0) {
      // The move was aborted or changed under a load: the load stops (what it loaded is dropped after the grace).
      for (const b of forgotten) this.loading.delete(b);
      this.#dropLoaded = true;
      this.#restartFromStore(stored);
    }
    let gained: number[];
    if (before === undefined) {
      if (!start || stored === 0 || this.served === undefined || this.served.size === 0) return wanted;
      gained = [...wanted].filter((b) => !this.served!.has(b));
    } else gained = [...wanted].filter((b) => !before.has(b) && !this.loading.has(b));
    if (gained.length > 0) {
      if (stored > 0) for (const b of gained) this.loading.add(b);
      this.#restartFromStore(stored);
    }
    return this.loading.size === 0 ? wanted : new Set([...wanted].filter((b) => !this.loading.has(b)));
  }

  /** The running read stops before its next message: it must not apply the new buckets from where it is. */
  #restartFromStore(stored: number): void {
    this.generation++;
    this.processed = stored;
    this.#run.abort();
    this.#run = new AbortController();
  }

  /** Set while a load hands its buckets over: the running read waits for it before its next message. */
  get held(): Promise<void> | undefined {
    return this.#held;
  }

  /** Holds the running read before its next message until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    this.#held = held;
    return () => {
      if (this.#held === held) this.#held = undefined;
      release();
    };
  }

  /** `loaded` were loaded up to where the running read is: it applies them from its next message on (those still followed). */
  finishLoading(loaded: Iterable<number>): void {
    const wanted = this.map ? bucketsToFollow(this.map, this.applier.member) : undefined;
    const owned = new Set(this.owned ?? []);
    for (const b of loaded) {
      this.loading.delete(b);
      if (wanted?.has(b)) owned.add(b);
    }
    if (this.owned !== undefined) this.owned = owned;
    this.snapshotAt = Number.NEGATIVE_INFINITY;
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
      const loading = this.loading;
      const documents = await this.applier.target.dropWhere(collection, (id) => {
        const b = bucketOf(id, buckets);
        return !owned.has(b) && !loading.has(b);
      });
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
