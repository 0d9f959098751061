// The read side of one collection: queries (dense, filtered, hybrid), the planner's choice of scan or
// walk, the payloads and vectors a query asks for, and the text statistics. It reads the derived
// indexes the collection's writes keep up to date and LMDB for payloads and vectors; it never writes.
import {
  DEFAULT_LIMITS,
  EncodedPayload,
  InvalidArgumentError,
  InvalidFilterError,
  LimitExceededError,
  NO_LABEL,
  isEmptyFilter,
  validateFilter,
  type Filter,
  type Payload,
  type QueryOptions,
  type ResultReply,
  type StatValue,
} from '@ragwire/protocol';
import type { DataPlanePlanRules, Index } from '@ragwire/native';
import type { FilterIndex } from './filter-index';
import { hybridQueryCount, hybridSearch, type HybridQuery } from './hybrid-search';
import { checkVectors } from './input-checks';
import type { QueryStageListener } from './query-stages';
import type { CollectionDbs } from './records';
import { SearchPlacement } from './search-placement';
import type { CollectionSettings } from './settings';
import { legacyPayload, popcount } from './stored-payload';
import type { SparseIndex } from './text/sparse-index';
import type { TextIndex } from './text/text-index';

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

/** How a query is served: payloads in their stored wire form (for a server to send unopened), and a listener for its stages. */
export interface QueryHow {
  encodedPayloads?: boolean;
  onStage?: QueryStageListener;
}

/** The derived state a reader searches, kept current by the collection's writes. */
export interface ReadState {
  settings: CollectionSettings;
  dbs: CollectionDbs;
  index: Index;
  /** label -> document id, for the live documents. */
  labelToId: Map<number, string>;
  filters: FilterIndex;
  text: TextIndex;
  sparse: SparseIndex;
  /** The next label a write would assign: the allow-list's length in bits. */
  nextLabel(): number;
}

const { maxK: MAX_K, maxEfSearch: MAX_EF_SEARCH } = DEFAULT_LIMITS;

export class CollectionReader {
  readonly #state: ReadState;
  readonly #placement: SearchPlacement;
  #queries = 0;

  constructor(state: ReadState, placement: { exactScanBytes: number; deviceMinWork: number }) {
    this.#state = state;
    this.#placement = new SearchPlacement(state.index, state.settings, placement);
  }

  /**
   * k nearest documents of each query vector, best first; scores are higher = more similar. With
   * `encodedPayloads`, payloads come as EncodedPayload (their stored wire form, for a server to send
   * without unpacking them); otherwise as plain objects.
   */
  async query(input: QueryInput, how: QueryHow): Promise<QueryResult> {
    const { settings, index, labelToId } = this.#state;
    const { vectors, k, options = {} } = input;
    const dim = settings.dim;
    if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`k must be a positive integer, got ${k}`);
    if (k > MAX_K) throw new LimitExceededError(`k must be at most ${MAX_K}, got ${k}`);
    // Checked here, not only by the engine: a small collection is scanned exactly and never asks it.
    const ef = options.efSearch;
    if (ef !== undefined) {
      if (!Number.isInteger(ef) || ef < 1) throw new InvalidArgumentError(`efSearch must be a positive integer, got ${ef}`);
      if (ef > MAX_EF_SEARCH) throw new LimitExceededError(`efSearch must be at most ${MAX_EF_SEARCH}, got ${ef}`);
    }
    checkVectors(vectors, settings, undefined, 'query vectors');
    const hybrid = input.text !== undefined || input.sparse !== undefined;
    const nq = hybrid ? hybridQueryCount(input, dim) : vectors.length / dim;
    if (nq === 0) throw new InvalidArgumentError('a query needs at least one vector');
    const { onStage } = how;
    const filterStart = onStage ? performance.now() : 0;
    const filter = input.filter === undefined ? undefined : this.allowList(validateFilter(input.filter));
    this.#queries += nq;
    // The planner (search-placement.ts): the allow-list's exact count is the filter's selectivity;
    // a collection or allow-list small enough to scan, or cheaper to scan than to walk, is scanned
    // exactly (and says so).
    const rows = filter ? popcount(filter) : labelToId.size;
    if (onStage && filter) onStage('filter', filterStart, performance.now(), { 'ragwire.allowed': rows });
    const exactScan = options.exact === true || this.#placement.exactScan(rows, labelToId.size, dim, k, ef);
    const exact = (exactScan || settings.kind === 'flat') && settings.storage === 'f32';
    // A text- or sparse-only query has no dense search to place.
    const onDevice = vectors.length > 0 && this.#placement.onDevice(nq, labelToId.size, dim);
    const stageAttributes = () => ({ 'ragwire.kind': settings.kind, 'ragwire.exact': exactScan, 'ragwire.on_device': onDevice, 'ragwire.rows': rows });
    const searchStart = onStage ? performance.now() : 0;
    if (hybrid) {
      const hits = await hybridSearch(this.#state, { ...input, k }, nq, filter, { efSearch: ef, exact: exactScan || undefined, onDevice });
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
    const r = await index.search(vectors, k, { efSearch: ef, exact: exactScan || undefined, onDevice, filter });
    onStage?.('engine.search', searchStart, performance.now(), stageAttributes());
    const counts = new Uint32Array(nq);
    const ids: string[] = [];
    const scores: number[] = [];
    const labels: number[] = [];
    for (let q = 0; q < nq; q++) {
      for (let j = 0; j < k; j++) {
        const label = r.labels[q * k + j]!;
        if (label === NO_LABEL) break;
        const id = labelToId.get(label);
        if (id === undefined) continue; // replaced or deleted while the search ran
        ids.push(id);
        labels.push(label);
        scores.push(r.scores[q * k + j]!);
        counts[q]!++;
      }
    }
    return this.#withExtras({ k, counts, ids, scores: Float32Array.from(scores), exact }, labels, options, how);
  }

  /** The ids of the documents `filter` matches now (a delete by filter deletes these). An empty filter is refused. */
  idsMatching(input: Filter): string[] {
    const filter = validateFilter(input);
    if (isEmptyFilter(filter)) throw new InvalidFilterError('delete with an empty filter would delete every document; pass { all: true } to mean that');
    const bits = this.allowList(filter);
    const ids: string[] = [];
    for (const [label, id] of this.#state.labelToId) if ((bits[label >>> 3]! >> (label & 7)) & 1) ids.push(id);
    return ids;
  }

  /** The text index's statistics for the terms of `texts` (docs/search.md §3: global BM25 over shards). */
  textStats(texts: readonly string[]): ReturnType<TextIndex['stats']> {
    return this.#state.text.stats(texts);
  }

  /** A document's stored payload, or null when it has none (or is gone). */
  payload(id: string): Payload | null {
    const doc = this.#state.dbs.docs.get(id);
    if (!doc) return null;
    if (doc.payload !== undefined) return new EncodedPayload(doc.payload).decoded();
    return legacyPayload(doc);
  }

  /** A document's payload in its wire form, or null when it has none (or is gone). */
  encodedPayload(id: string): EncodedPayload | null {
    const doc = this.#state.dbs.docs.get(id);
    if (!doc) return null;
    // Copied: a value read from LMDB may share a buffer the next read reuses.
    if (doc.payload !== undefined) return new EncodedPayload(Uint8Array.prototype.slice.call(doc.payload));
    const p = legacyPayload(doc);
    return p === null ? null : EncodedPayload.encode(p);
  }

  /** The planner's rules (for a native data plane to plan as this reader does). */
  planRules(): DataPlanePlanRules {
    return this.#placement.rules();
  }

  /** Query vectors answered, and the planner's and placement's counters. */
  stats(): Record<string, StatValue> {
    return { 'queries.total': this.#queries, ...this.#placement.stats() };
  }

  /** The allow-list of `filter`: one bit per label. */
  allowList(filter: Filter): Uint8Array {
    const { filters, labelToId } = this.#state;
    return filters.evaluate(filter, this.#state.nextLabel(), () => labelToId.keys());
  }

  /** Adds the payloads and vectors a query asked for. */
  #withExtras(out: QueryResult, labels: number[], options: QueryOptions, how: QueryHow): QueryResult {
    const { ids } = out;
    if (!options.withPayload && !options.withVectors) return out;
    const start = how.onStage ? performance.now() : 0;
    if (options.withPayload) out.payloads = how.encodedPayloads ? ids.map((id) => this.encodedPayload(id)) : ids.map((id) => this.payload(id));
    if (options.withVectors) out.vectors = this.#vectorsOf(labels);
    how.onStage?.('payloads', start, performance.now(), { 'ragwire.hits': ids.length });
    return out;
  }

  /** The stored vectors of `labels`, row-major; a row of a document removed meanwhile stays zero. */
  #vectorsOf(labels: number[]): Float32Array {
    const dim = this.#state.settings.dim;
    const out = new Float32Array(labels.length * dim);
    labels.forEach((label, i) => {
      const bytes = this.#state.dbs.vectors.getBinary(label);
      // Copied byte-wise: LMDB's buffer need not be 4-byte aligned.
      if (bytes) new Uint8Array(out.buffer, i * dim * 4, dim * 4).set(bytes.subarray(0, dim * 4));
    });
    return out;
  }
}
