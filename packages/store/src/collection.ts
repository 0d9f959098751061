// One durable collection. LMDB is the source of truth (documents, vectors and
// a write log, committed together); the engine index and the filter index are
// derived from it in memory. A write resolves after its LMDB commit (lmdb-js
// batches concurrent writers into one sync: group commit) and after the
// derived indexes applied it, in commit order, so a query issued after the
// write sees it. The collection snapshots its derived indexes itself (every
// snapshotEveryOps writes, on demand and on close), so a restart loads them
// instead of rebuilding.
import { rmSync, statSync } from 'node:fs';
import {
  ClosedError,
  DEFAULT_LIMITS,
  EncodedPayload,
  InvalidArgumentError,
  InvalidFilterError,
  LimitExceededError,
  NO_LABEL,
  isEmptyFilter,
  isEncodedPayload,
  validateFilter,
  type CollectionInfo,
  type Filter,
  type Payload,
  type QueryOptions,
  type ResultReply,
  type SnapshotInfo,
  type StatValue,
} from '@ragwire/protocol';
import type { Index } from '@ragwire/native';
import type { FilterIndex } from './filter-index';
import { hybridQueryCount, hybridSearch, type HybridQuery } from './hybrid-search';
import { checkIds, checkVectors } from './input-checks';
import { mergeLogGroup, type LogEntry, type RefusedEntry } from './log-group';
import type { DeleteInput, UpsertInput } from './write-input';

export type { DeleteInput, UpsertInput } from './write-input';
import type { CollectionDbs, CollectionRecord, DocRecord } from './records';
import { encodeTag } from './recovery';
import type { QueryStageListener } from './query-stages';
import { SearchPlacement } from './search-placement';
import { encodePayload, legacyPayload, popcount } from './stored-payload';
import type { CollectionSettings } from './settings';
import { textSnapshotPath } from './text/derive';
import { checkSparse, type SparseIndex } from './text/sparse-index';
import type { TextIndex } from './text/text-index';
import { saveTextIndex } from './text/text-snapshot';

/** A dense query (`vectors` only), or a text / sparse / hybrid one (docs/search.md §3). */
export interface QueryInput extends Partial<Omit<HybridQuery, 'k' | 'vectors'>> {
  /** n x dim; may be empty beside `text` or `sparse`. */
  vectors: Float32Array;
  k: number;
  filter?: Filter;
  options?: QueryOptions;
}

/** The protocol's RESULT, less its type tag. */
export type QueryResult = Omit<ResultReply, 'type'>;

/** How a collection snapshots and searches (the store's options, and where its snapshot lives). */
export interface CollectionOptions {
  /** The engine index's snapshot file; the text index's lies beside it (textSnapshotPath). */
  snapshotPath: string;
  /** Snapshot after this many writes since the last snapshot. */
  snapshotEveryOps: number;
  /** Compact the index before a snapshot when this share of its rows are deleted. */
  compactRatio: number;
  /** Collections (or allow-lists) with at most this many bytes of vectors are searched by an exact scan, whatever the index kind; 0: never planned. */
  exactScanBytes: number;
  /** A flat index on a device searches there only batches above this much work (queries x rows x dim). */
  deviceMinWork: number;
}

const { maxK: MAX_K } = DEFAULT_LIMITS;

export class Collection {
  readonly settings: CollectionSettings;
  readonly record: CollectionRecord;
  /** label -> document id, for the live documents. */
  readonly labelToId: Map<number, string>;
  readonly filters: FilterIndex;
  readonly text: TextIndex;
  readonly sparse: SparseIndex;
  readonly index: Index;
  readonly #placement: SearchPlacement;
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
  #queries = 0;
  #writes = 0;

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
    this.#placement = new SearchPlacement(state.index, record.settings, options);
    this.labelToId = state.labelToId;
    this.filters = state.filters;
    this.text = state.text;
    this.sparse = state.sparse;
    this.#snapshotSeq = state.snapshotSeq;
    this.#indexedSeq = record.seq;
    this.#indexedLogWrites = record.logWrites ?? 0;
  }

  get name(): string {
    return this.settings.name;
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
    let previous = 0;
    for (const { logSeq } of entries) {
      checkLogSeq(logSeq);
      if (logSeq <= previous) throw new InvalidArgumentError(`log entries must be in log order: ${logSeq} after ${previous}`);
      previous = logSeq;
    }
    const fresh = entries.filter((e) => e.logSeq > this.logSeq);
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
    this.record.logSeq = logSeq;
    const committed = this.dbs.collections.put(this.name, { ...this.record });
    return this.#serial(async () => {
      await committed;
      throw error;
    });
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
    this.record.logSeq = logSeq;
    const committed = this.dbs.collections.put(this.name, { ...this.record });
    return this.#serial(async () => {
      await committed;
      return true;
    });
  }

  /** Inserts or replaces documents. Resolves once committed to disk and searchable. */
  upsert(input: UpsertInput, logSeq?: number): Promise<{ upserted: number; seq: number }> {
    return this.#upsert(input, logSeq, []);
  }

  /** Upserts, and deletes `remove` (ids not among the upserted) in the same transaction. */
  #upsert(input: UpsertInput, logSeq: number | undefined, remove: readonly string[]): Promise<{ upserted: number; seq: number }> {
    this.#open();
    const { ids, vectors, payloads } = input;
    const n = checkIds(ids);
    checkVectors(vectors, this.settings, n, 'vectors');
    if (payloads !== undefined && (!Array.isArray(payloads) || payloads.length !== n)) {
      throw new InvalidArgumentError(`payloads must hold one entry (or null) per id: ${n}, got ${Array.isArray(payloads) ? payloads.length : typeof payloads}`);
    }
    // Encoded (and so checked) before anything changes: a bad payload fails the whole write.
    const sparse = input.sparse?.map((v, i) => (v === null || v === undefined || v.indices.length === 0 ? null : checkSparse(v, `sparse[${i}]`)));
    if (sparse !== undefined && sparse.length !== n) throw new InvalidArgumentError(`sparse must hold one entry (or null) per id: ${n}, got ${sparse.length}`);
    const encoded = payloads?.map((p, i) => (p === null || p === undefined ? undefined : isEncodedPayload(p) ? p : encodePayload(p, `payloads[${i}]`)));
    if (this.record.nextLabel + n >= NO_LABEL) throw new LimitExceededError('the collection has used every engine label; re-create it');
    const dim = this.settings.dim;
    const labels = new Uint32Array(n);
    for (let i = 0; i < n; i++) labels[i] = this.record.nextLabel++;
    const seq = ++this.record.seq;
    const removed: number[] = [];
    const own = new Float32Array(vectors); // the caller may reuse its buffer once we return
    const record = this.#recordAt(logSeq);
    const committed = this.dbs.docs.transaction(() => {
      for (let i = 0; i < n; i++) {
        const id = ids[i]!;
        const old = this.dbs.docs.get(id);
        if (old) {
          removed.push(old.label);
          this.dbs.vectors.remove(old.label);
        }
        const p = encoded?.[i];
        const doc: DocRecord = { label: labels[i]! };
        if (p !== undefined) {
          doc.payload = p.bytes;
          // The caller's object: reading it from the bytes just packed would unpack them again.
          const metadata = payloads![i]!.metadata;
          if (metadata !== undefined) doc.metadata = metadata;
        }
        const v = sparse?.[i];
        if (v) doc.sparse = [Array.from(v.indices), Array.from(v.values)];
        this.dbs.docs.put(id, doc);
        this.dbs.vectors.put(labels[i]!, Buffer.from(own.buffer, i * dim * 4, dim * 4));
      }
      for (const id of remove) {
        const old = this.dbs.docs.get(id);
        if (!old) continue;
        removed.push(old.label);
        this.dbs.docs.remove(id);
        this.dbs.vectors.remove(old.label);
      }
      this.dbs.log.put(seq, { add: Array.from(labels), remove: removed });
      this.dbs.collections.put(this.name, record);
    });
    return this.#apply(committed, async () => {
      if (removed.length) await this.#unindex(removed);
      await this.index.add(labels, own);
      for (let i = 0; i < n; i++) {
        this.labelToId.set(labels[i]!, ids[i]!);
        this.filters.add(labels[i]!, payloads?.[i]?.metadata);
        const p = payloads?.[i];
        if (p) this.text.add(labels[i]!, this.text.documentText(p.text, p.metadata));
        if (sparse?.[i]) this.sparse.add(labels[i]!, sparse[i]!);
      }
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
    const given = (input.ids !== undefined ? 1 : 0) + (input.filter !== undefined ? 1 : 0) + (input.all !== undefined ? 1 : 0);
    if (given !== 1) throw new InvalidArgumentError('delete takes exactly one of ids, filter and all');
    let ids: string[];
    if (input.ids) {
      checkIds(input.ids, true);
      ids = input.ids;
    } else if (input.filter !== undefined) {
      ids = this.idsMatching(input.filter);
    } else {
      if (input.all !== true) throw new InvalidArgumentError(`delete.all must be true when given, got ${String(input.all)}`);
      ids = [...this.labelToId.values()];
    }
    const seq = ++this.record.seq;
    const removed: number[] = [];
    const record = this.#recordAt(logSeq);
    const committed = this.dbs.docs.transaction(() => {
      for (const id of ids) {
        const old = this.dbs.docs.get(id);
        if (!old) continue;
        removed.push(old.label);
        this.dbs.docs.remove(id);
        this.dbs.vectors.remove(old.label);
      }
      this.dbs.log.put(seq, { add: [], remove: removed });
      this.dbs.collections.put(this.name, record);
    });
    return this.#apply(committed, async () => {
      await this.#unindex(removed);
      this.#indexedSeq = seq;
      this.#indexedLogWrites = record.logWrites ?? 0;
      return { deleted: removed.length, seq };
    });
  }

  /** The ids of the documents `filter` matches now (a delete by filter deletes these). An empty filter is refused. */
  idsMatching(input: Filter): string[] {
    this.#open();
    const filter = validateFilter(input);
    if (isEmptyFilter(filter)) throw new InvalidFilterError('delete with an empty filter would delete every document; pass { all: true } to mean that');
    const bits = this.#allowList(filter);
    const ids: string[] = [];
    for (const [label, id] of this.labelToId) if ((bits[label >>> 3]! >> (label & 7)) & 1) ids.push(id);
    return ids;
  }

  /**
   * k nearest documents of each query vector, best first; scores are higher = more similar. With
   * `encodedPayloads`, payloads come as EncodedPayload (their stored wire form, for a server to send
   * without unpacking them); otherwise as plain objects.
   */
  async query(input: QueryInput, how: { encodedPayloads?: boolean; onStage?: QueryStageListener } = {}): Promise<QueryResult> {
    this.#open();
    const { vectors, k, options = {} } = input;
    const dim = this.settings.dim;
    if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`k must be a positive integer, got ${k}`);
    if (k > MAX_K) throw new LimitExceededError(`k must be at most ${MAX_K}, got ${k}`);
    // Checked here, not only by the engine: a small collection is scanned exactly and never asks it.
    const ef = input.options?.efSearch;
    if (ef !== undefined) {
      if (!Number.isInteger(ef) || ef < 1) throw new InvalidArgumentError(`efSearch must be a positive integer, got ${ef}`);
      if (ef > DEFAULT_LIMITS.maxEfSearch) throw new LimitExceededError(`efSearch must be at most ${DEFAULT_LIMITS.maxEfSearch}, got ${ef}`);
    }
    checkVectors(vectors, this.settings, undefined, 'query vectors');
    const hybrid = input.text !== undefined || input.sparse !== undefined;
    const nq = hybrid ? hybridQueryCount(input, dim) : vectors.length / dim;
    if (nq === 0) throw new InvalidArgumentError('a query needs at least one vector');
    const { onStage } = how;
    const filterStart = onStage ? performance.now() : 0;
    const filter = input.filter === undefined ? undefined : this.#allowList(validateFilter(input.filter));
    this.#queries += nq;
    // The planner (search-placement.ts): the allow-list's exact count is the filter's selectivity;
    // a collection or allow-list small enough to scan, or cheaper to scan than to walk, is scanned
    // exactly (and says so).
    const rows = filter ? popcount(filter) : this.labelToId.size;
    if (onStage && filter) onStage('filter', filterStart, performance.now(), { 'ragwire.allowed': rows });
    const exactScan = options.exact === true || this.#placement.exactScan(rows, this.labelToId.size, dim, k, options.efSearch);
    const exact = (exactScan || this.settings.kind === 'flat') && this.settings.storage === 'f32';
    // A text- or sparse-only query has no dense search to place.
    const onDevice = vectors.length > 0 && this.#placement.onDevice(nq, this.labelToId.size, dim);
    const searchOptions = { efSearch: options.efSearch, exact: exactScan || undefined, onDevice, filter };
    const stageAttributes = () => ({ 'ragwire.kind': this.settings.kind, 'ragwire.exact': exactScan, 'ragwire.on_device': onDevice, 'ragwire.rows': rows });
    const searchStart = onStage ? performance.now() : 0;
    if (hybrid) {
      const hits = await hybridSearch(this, { ...input, k }, nq, filter, { efSearch: options.efSearch, exact: exactScan || undefined, onDevice });
      onStage?.('hybrid.search', searchStart, performance.now(), stageAttributes());
      const out: QueryResult = {
        k,
        counts: Uint32Array.from(hits, (h) => h.ids.length),
        ids: hits.flatMap((h) => h.ids),
        scores: Float32Array.from(hits.flatMap((h) => h.scores)),
        exact,
      };
      return this.#withExtras(
        out,
        hits.flatMap((h) => h.labels),
        options,
        how,
      );
    }
    // A small single search runs inline in @ragwire/native (IndexOptions.inlineSearchBudget).
    const r = await this.index.search(vectors, k, searchOptions);
    onStage?.('engine.search', searchStart, performance.now(), stageAttributes());
    const counts = new Uint32Array(nq);
    const ids: string[] = [];
    const scores: number[] = [];
    const labels: number[] = [];
    for (let q = 0; q < nq; q++) {
      for (let j = 0; j < k; j++) {
        const label = r.labels[q * k + j]!;
        if (label === NO_LABEL) break;
        const id = this.labelToId.get(label);
        if (id === undefined) continue; // replaced or deleted while the search ran
        ids.push(id);
        labels.push(label);
        scores.push(r.scores[q * k + j]!);
        counts[q]!++;
      }
    }
    return this.#withExtras({ k, counts, ids, scores: Float32Array.from(scores), exact }, labels, options, how);
  }

  /** Adds the payloads and vectors a query asked for. */
  #withExtras(out: QueryResult, labels: number[], options: QueryOptions, how: { encodedPayloads?: boolean; onStage?: QueryStageListener }): QueryResult {
    const { ids } = out;
    if (!options.withPayload && !options.withVectors) return out;
    const start = how.onStage ? performance.now() : 0;
    if (options.withPayload) out.payloads = how.encodedPayloads ? ids.map((id) => this.encodedPayload(id)) : ids.map((id) => this.payload(id));
    if (options.withVectors) out.vectors = this.#vectorsOf(labels);
    how.onStage?.('payloads', start, performance.now(), { 'ragwire.hits': ids.length });
    return out;
  }

  /** The text index's statistics for the terms of `texts` (docs/search.md §3: global BM25 over shards). */
  textStats(texts: readonly string[]): ReturnType<TextIndex['stats']> {
    this.#open();
    return this.text.stats(texts);
  }

  get dim(): number {
    return this.settings.dim;
  }

  /** The stored vectors of `labels`, row-major; a row of a document removed meanwhile stays zero. */
  #vectorsOf(labels: number[]): Float32Array {
    const dim = this.settings.dim;
    const out = new Float32Array(labels.length * dim);
    labels.forEach((label, i) => {
      const bytes = this.dbs.vectors.getBinary(label);
      // Copied byte-wise: LMDB's buffer need not be 4-byte aligned.
      if (bytes) new Uint8Array(out.buffer, i * dim * 4, dim * 4).set(bytes.subarray(0, dim * 4));
    });
    return out;
  }

  /** A document's stored payload, or null when it has none (or is gone). */
  payload(id: string): Payload | null {
    const doc = this.dbs.docs.get(id);
    if (!doc) return null;
    if (doc.payload !== undefined) return new EncodedPayload(doc.payload).decoded();
    return legacyPayload(doc);
  }

  /** A document's payload in its wire form, or null when it has none (or is gone). */
  encodedPayload(id: string): EncodedPayload | null {
    const doc = this.dbs.docs.get(id);
    if (!doc) return null;
    // Copied: a value read from LMDB may share a buffer the next read reuses.
    if (doc.payload !== undefined) return new EncodedPayload(Uint8Array.prototype.slice.call(doc.payload));
    const p = legacyPayload(doc);
    return p === null ? null : EncodedPayload.encode(p);
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
      'index.deleted': s.deleted,
      'index.bytes': s.memoryBytes,
      'queries.total': this.#queries,
      'writes.total': this.#writes,
      isa: s.isa,
      ...this.#placement.stats(),
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
    await this.#shutDown();
    await this.dbs.collections.remove(this.name);
    for (const db of [this.dbs.docs, this.dbs.vectors, this.dbs.log]) await db.drop();
    rmSync(this.#options.snapshotPath, { force: true });
    rmSync(textSnapshotPath(this.#options.snapshotPath), { force: true });
  }

  async #shutDown(): Promise<void> {
    await this.#applied.catch(() => undefined);
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
    const path = this.#options.snapshotPath;
    const s = this.index.stats();
    if (s.deleted > 0 && s.deleted >= (s.count + s.deleted) * this.#options.compactRatio) await this.index.compact();
    await this.index.save(path, { userData: encodeTag({ incarnation: this.record.incarnation, seq }) });
    saveTextIndex(this.text, textSnapshotPath(path), this.record.incarnation);
    this.#snapshotSeq = seq;
    await this.dbs.log.transaction(() => {
      for (const key of this.dbs.log.getKeys({ end: seq + 1 })) this.dbs.log.remove(key);
    });
    return { collection: this.name, seq, bytes: statSync(path).size };
  }

  async #unindex(labels: number[]): Promise<void> {
    if (labels.length === 0) return;
    await this.index.remove(Uint32Array.from(labels));
    for (const label of labels) {
      this.labelToId.delete(label);
      this.filters.remove(label);
      this.text.remove(label);
      this.sparse.remove(label);
    }
  }

  #allowList(filter: Filter): Uint8Array {
    return this.filters.evaluate(filter, this.record.nextLabel, () => this.labelToId.keys());
  }

  #open(): void {
    if (this.#closed) throw new ClosedError(`collection ${this.name} is closed`);
  }
}

function checkLogSeq(logSeq: number): void {
  if (!Number.isSafeInteger(logSeq) || logSeq < 1) throw new InvalidArgumentError(`logSeq must be a positive integer, got ${logSeq}`);
}
