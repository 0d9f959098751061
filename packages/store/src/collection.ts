// One durable collection. LMDB is the source of truth (documents, vectors and
// a write log, committed together); the engine index and the filter index are
// derived from it in memory. A write resolves after its LMDB commit (lmdb-js
// batches concurrent writers into one sync: group commit) and after the
// derived indexes applied it, in commit order, so a query issued after the
// write sees it. The collection snapshots its derived indexes itself (every
// snapshotEveryOps writes, on demand and on close), so a restart loads them
// instead of rebuilding.
import { dirname } from 'node:path';
import {
  ClosedError,
  LimitExceededError,
  NO_LABEL,
  type CollectionInfo,
  type EncodedPayload,
  type Filter,
  type Payload,
  type SnapshotInfo,
  type StatValue,
} from '@ragwire/protocol';
import type { DataPlaneRegistry, Index } from '@ragwire/native';
import { CollectionReader, type QueryHow, type QueryInput, type QueryResult } from './collection-reader';
import { removeSnapshotFiles, writeSnapshotFiles } from './collection-files';
import { DataPlaneColumns } from './data-plane-column';
import { indexDocuments, unindexDocuments, type DocumentIndexes } from './document-indexes';
import type { FilterIndex } from './filter-index';
import { checkLogSeq, entriesAfter, mergeLogGroup, type LogEntry, type RefusedEntry } from './log-group';
import type { CollectionDbs, CollectionRecord } from './records';
import type { CollectionSettings } from './settings';
import type { CollectionOptions } from './store-options';
import type { SparseIndex } from './text/sparse-index';
import type { TextIndex } from './text/text-index';
import { commitDelete, commitUpsert } from './write-commit';
import { checkUpsert, deleteTargets, type DeleteInput, type UpsertInput } from './write-input';

export type { QueryHow, QueryInput, QueryResult } from './collection-reader';
export type { DeleteInput, UpsertInput } from './write-input';

export class Collection implements DocumentIndexes {
  readonly settings: CollectionSettings;
  readonly record: CollectionRecord;
  /** label -> document id, for the live documents. */
  readonly labelToId: Map<number, string>;
  readonly filters: FilterIndex;
  readonly text: TextIndex;
  readonly sparse: SparseIndex;
  readonly index: Index;
  readonly #reader: CollectionReader;
  #snapshotSeq: number;
  /**
   * The seq of the last write the index holds. record.seq runs ahead of it while writes wait to be
   * applied; a snapshot is tagged with this one, so it never claims (and trims the log of) a write it lacks.
   */
  #indexedSeq: number;
  /** record.logWrites as of the last write the index holds. */
  #indexedLogWrites: number;
  readonly #options: CollectionOptions;
  #applied: Promise<unknown> = Promise.resolve();
  #closed = false;
  #writes = 0;
  /** Where native data planes answer this collection's plain queries from, once published. */
  readonly #columns: DataPlaneColumns;

  constructor(
    readonly dbs: CollectionDbs,
    record: CollectionRecord,
    state: { index: Index; labelToId: Map<number, string>; filters: FilterIndex; text: TextIndex; sparse: SparseIndex; snapshotSeq: number },
    options: CollectionOptions,
  ) {
    this.#options = options;
    this.record = record;
    this.settings = record.settings;
    this.index = state.index;
    this.labelToId = state.labelToId;
    this.filters = state.filters;
    this.text = state.text;
    this.sparse = state.sparse;
    this.#snapshotSeq = state.snapshotSeq;
    this.#indexedSeq = record.seq;
    this.#indexedLogWrites = record.logWrites ?? 0;
    this.#columns = new DataPlaneColumns(record.settings.name);
    this.#reader = new CollectionReader({ ...state, settings: record.settings, dbs, nextLabel: () => record.nextLabel }, options);
  }

  get name(): string {
    return this.settings.name;
  }

  /**
   * Publishes this collection to the native data plane: its index, its planner's rules and every
   * live document's id, payload and filter pairs; every write applied from now on updates it before
   * it resolves.
   */
  publishTo(registry: DataPlaneRegistry): void {
    this.#open();
    this.#columns.publish(
      registry,
      this.index,
      this.#reader.planRules(),
      dirname(this.#options.snapshotPath),
      this.labelToId,
      (id) => this.#reader.encodedPayload(id),
      (label) => this.filters.fieldsOf(label),
    );
  }

  /** Stops updating `registry` (its owner disposed it or is about to). */
  unpublishFrom(registry: DataPlaneRegistry): void {
    this.#columns.forget(registry);
  }

  /** Fleet: the write log sequence of the last write applied through applyAt (committed or about to be); 0 when none. */
  get logSeq(): number {
    return this.record.logSeq ?? 0;
  }

  /**
   * Fleet: applies the write at position `logSeq` of the collection's write log, recording `logSeq` in
   * the same LMDB transaction as the write, so a restart (even after kill -9) resumes after the last
   * write committed: each log entry is applied exactly once. An entry at or below `logSeq` is skipped
   * (`applied: false`). A write the store refuses (a bad vector, an unknown id shape) still consumes
   * its position, committed alone, and rejects with the store's typed error.
   */
  applyAt(logSeq: number, write: { upsert: UpsertInput } | { delete: DeleteInput }): Promise<{ applied: boolean }> {
    this.#open();
    checkLogSeq(logSeq);
    if (logSeq <= this.logSeq) return Promise.resolve({ applied: false });
    this.#countLogWrites(1);
    try {
      const done = 'upsert' in write ? this.upsert(write.upsert, logSeq) : this.delete(write.delete, logSeq);
      return done.then(() => ({ applied: true }));
    } catch (error) {
      this.#countLogWrites(-1);
      return this.#consume(logSeq, error);
    }
  }

  /**
   * Fleet: applies consecutive log entries (upserts and deletes by ids, in log order) as one write: one
   * LMDB transaction, which records the last entry's position, and one index add, with the result of
   * applying them one by one (log-group.ts). Entries at or below `logSeq` are skipped. An entry the store
   * refuses is left out and returned (its position is consumed with the group's). `applied`: entries applied.
   */
  applyGroupAt(entries: readonly LogEntry[]): Promise<{ applied: number; refused: RefusedEntry[] }> {
    this.#open();
    const fresh = entriesAfter(entries, this.logSeq);
    if (fresh.length === 0) return Promise.resolve({ applied: 0, refused: [] });
    const last = fresh.at(-1)!.logSeq;
    const { upsert, remove, refused } = mergeLogGroup(fresh, this.settings);
    const result = { applied: fresh.length - refused.length, refused };
    if (upsert === undefined && remove.length === 0) return this.recordLogSeq(last).then(() => result);
    this.#countLogWrites(result.applied);
    try {
      const done = upsert !== undefined ? this.#upsert(upsert, last, remove) : this.delete({ ids: remove }, last);
      return done.then(() => result);
    } catch (error) {
      this.#countLogWrites(-result.applied);
      return this.#consume(last, error);
    }
  }

  /** Counts log entries in the record the next write commits. */
  #countLogWrites(n: number): void {
    this.record.logWrites = (this.record.logWrites ?? 0) + n;
  }

  /** A log write the store refused: its position is committed alone, then the store's error. */
  #consume(logSeq: number, error: unknown): Promise<never> {
    return this.#commitLogSeq(logSeq).then(() => {
      throw error;
    });
  }

  /** Commits the record at log position `logSeq`, with no write, after every write before it. */
  #commitLogSeq(logSeq: number): Promise<unknown> {
    this.record.logSeq = logSeq;
    const committed = this.dbs.collections.put(this.name, { ...this.record });
    return this.#serial(() => committed);
  }

  /**
   * Fleet: records that the write log up to `logSeq` holds nothing more for this collection (its other
   * messages were of buckets held elsewhere), without a write, after every write before it. A restart
   * then resumes after `logSeq`, so a stream trimmed up to there is not mistaken for a gap. Resolves to
   * false when the position is already at or past `logSeq`.
   */
  recordLogSeq(logSeq: number): Promise<boolean> {
    this.#open();
    checkLogSeq(logSeq);
    if (logSeq <= this.logSeq) return Promise.resolve(false);
    return this.#commitLogSeq(logSeq).then(() => true);
  }

  /** Inserts or replaces documents. Resolves once committed to disk and searchable. */
  upsert(input: UpsertInput, logSeq?: number): Promise<{ upserted: number; seq: number }> {
    return this.#upsert(input, logSeq, []);
  }

  /** Upserts, and deletes `remove` (ids not among the upserted) in the same transaction. */
  #upsert(input: UpsertInput, logSeq: number | undefined, remove: readonly string[]): Promise<{ upserted: number; seq: number }> {
    this.#open();
    const { ids, vectors, payloads } = input;
    const { n, encoded, sparse } = checkUpsert(input, this.settings);
    if (this.record.nextLabel + n >= NO_LABEL) throw new LimitExceededError('the collection has used every engine label; re-create it');
    const dim = this.settings.dim;
    const labels = new Uint32Array(n);
    for (let i = 0; i < n; i++) labels[i] = this.record.nextLabel++;
    const seq = ++this.record.seq;
    const own = new Float32Array(vectors); // the caller may reuse its buffer once we return
    const record = this.#recordAt(logSeq);
    const { committed, removed } = commitUpsert(this.dbs, { ids, labels, vectors: own, dim, encoded, payloads, sparse }, remove, seq, record);
    return this.#apply(committed, async () => {
      if (removed.length) await this.#unindex(removed);
      await this.index.add(labels, own);
      indexDocuments(this, labels, ids, payloads, sparse);
      this.#columns.added(labels, ids, encoded, (label) => this.filters.fieldsOf(label));
      this.#indexedSeq = seq;
      this.#indexedLogWrites = record.logWrites ?? 0;
      return { upserted: n, seq };
    });
  }

  /**
   * Deletes by ids, every document a filter matches (as of when the delete is applied), or with
   * `all: true` every document. An empty filter is refused: it would match everything by accident.
   */
  delete(input: DeleteInput, logSeq?: number): Promise<{ deleted: number; seq: number }> {
    this.#open();
    const ids = deleteTargets(
      input,
      (filter) => this.idsMatching(filter),
      () => [...this.labelToId.values()],
    );
    const seq = ++this.record.seq;
    const record = this.#recordAt(logSeq);
    const { committed, removed } = commitDelete(this.dbs, ids, seq, record);
    return this.#apply(committed, async () => {
      await this.#unindex(removed);
      this.#indexedSeq = seq;
      this.#indexedLogWrites = record.logWrites ?? 0;
      return { deleted: removed.length, seq };
    });
  }

  /** The ids of the documents `filter` matches now (a delete by filter deletes these). An empty filter is refused. */
  idsMatching(filter: Filter): string[] {
    this.#open();
    return this.#reader.idsMatching(filter);
  }

  /** See CollectionReader.query. */
  query(input: QueryInput, how: QueryHow = {}): Promise<QueryResult> {
    this.#open();
    return this.#reader.query(input, how);
  }

  /** The text index's statistics for the terms of `texts` (docs/search.md §3: global BM25 over shards). */
  textStats(texts: readonly string[]): ReturnType<TextIndex['stats']> {
    this.#open();
    return this.#reader.textStats(texts);
  }

  get dim(): number {
    return this.settings.dim;
  }

  /** A document's stored payload, or null when it has none (or is gone). */
  payload(id: string): Payload | null {
    return this.#reader.payload(id);
  }

  /** A document's payload in its wire form, or null when it has none (or is gone). */
  encodedPayload(id: string): EncodedPayload | null {
    return this.#reader.encodedPayload(id);
  }

  info(): CollectionInfo {
    const { name, dim, metric, kind, storage, params } = this.settings;
    return { name, dim, metric, kind, storage, count: this.labelToId.size, params: { ...params } };
  }

  stats(): Record<string, StatValue> {
    const s = this.index.stats();
    return {
      // Both as of the last write applied (committed and searchable): a write accepted but still being
      // applied counts in neither, so a caller comparing replicas never sees one without the other.
      docs: this.labelToId.size,
      seq: this.#indexedSeq,
      // Fleet: write log entries applied (one store write may apply several).
      'log.writes': this.#indexedLogWrites,
      'snapshot.seq': this.#snapshotSeq,
      'index.kind': s.kind,
      'index.storage': s.storage,
      'index.inlineCodes': s.inlineCodes ?? false,
      'index.deleted': s.deleted,
      'index.bytes': s.memoryBytes,
      'writes.total': this.#writes,
      isa: s.isa,
      ...this.#reader.stats(),
      'device.bytes': s.deviceMemoryBytes,
    };
  }

  /** Saves the index (with the seq it holds) so a restart loads it instead of rebuilding. */
  snapshot(): Promise<SnapshotInfo> {
    this.#open();
    return this.#serial(() => this.#writeSnapshot());
  }

  /** Snapshots when there were writes since the last snapshot, waits for applied writes, then stops accepting calls and frees the index. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.record.seq > this.#snapshotSeq) await this.snapshot().catch(() => undefined);
    await this.#shutDown();
  }

  /**
   * Waits for applied writes, stops accepting calls and frees the index, then deletes the collection:
   * its record, its LMDB databases and its snapshot files.
   */
  async drop(): Promise<void> {
    this.#open();
    // Gone for the native data plane in the same turn the store forgot it.
    this.#columns.unpublish();
    await this.#shutDown();
    await this.dbs.collections.remove(this.name);
    for (const db of [this.dbs.docs, this.dbs.vectors, this.dbs.log]) await db.drop();
    removeSnapshotFiles(this.#options.snapshotPath);
  }

  async #shutDown(): Promise<void> {
    await this.#applied.catch(() => undefined);
    this.#columns.unpublish();
    this.#closed = true;
    this.index.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The record a write commits. Without a log position, the live record (as before fleets); with one,
   * a copy taken now: lmdb-js runs the transaction later, and a later write's position must not be
   * committed with this write's data.
   */
  #recordAt(logSeq: number | undefined): CollectionRecord {
    if (logSeq === undefined) return this.record;
    this.record.logSeq = logSeq;
    return { ...this.record };
  }

  /** Runs fn after every earlier write applied; writes and snapshots are serialised. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#applied.then(fn, fn);
    this.#applied = run.catch(() => undefined);
    return run;
  }

  #apply<T>(committed: Promise<unknown>, fn: () => Promise<T>): Promise<T> {
    this.#writes++;
    const result = this.#serial(async () => {
      await committed;
      return fn();
    });
    if (this.record.seq - this.#snapshotSeq >= this.#options.snapshotEveryOps) {
      this.#serial(() => this.#writeSnapshot()).catch(() => undefined);
    }
    return result;
  }

  /**
   * Compacts the index when enough of it is deleted rows, saves it and the text index tagged with the
   * seq they hold, then trims the log up to that seq. Runs serialised with the writes, so the index
   * holds exactly the writes up to #indexedSeq.
   */
  async #writeSnapshot(): Promise<SnapshotInfo> {
    const seq = this.#indexedSeq;
    const tag = { incarnation: this.record.incarnation, seq };
    const bytes = await writeSnapshotFiles(this.index, this.text, this.#options.snapshotPath, tag, this.#options.compactRatio);
    this.#snapshotSeq = seq;
    await this.dbs.log.transaction(() => {
      for (const key of this.dbs.log.getKeys({ end: seq + 1 })) this.dbs.log.remove(key);
    });
    return { collection: this.name, seq, bytes };
  }

  async #unindex(labels: number[]): Promise<void> {
    if (labels.length === 0) return;
    await this.index.remove(Uint32Array.from(labels));
    unindexDocuments(this, labels);
    this.#columns.removed(labels);
  }

  #open(): void {
    if (this.#closed) throw new ClosedError(`collection ${this.name} is closed`);
  }
}
