// The collection a framework adapter or an ingest run works on: where it lives (an embedded
// directory, shard servers, or a caller's ShardedCollection), how it is created on first write, and
// how searches run. @ragwire/langchain, @ragwire/llamaindex and @ragwire/ingest share this one copy.
import {
  checkIntInRange,
  hasCode,
  DEFAULT_LIMITS,
  DimensionMismatchError,
  INDEX_PARAM_RANGES,
  InvalidArgumentError,
  type CollectionInfo,
  type Filter,
  type IndexKind,
  type Metric,
  type Payload,
  type SparseVector,
  type QueryOptions,
  type Storage,
  type TextSettings,
} from '@ragwire/protocol';
import { queryWithPredicate, type PayloadPredicate } from './predicate-query';
import { ShardedCollection, isShardedCollection, type ShardedCollectionOptions } from './sharded-collection';
import type { ShardedQuery, ShardedResult } from './sharded-query';

/** Exactly one of `path` (embedded), `shards` (remote) and `client` (injected). */
export interface CollectionTarget {
  /** Collection name. Default "documents". */
  collection?: string;
  /** Embedded: a data directory, opened in this process (needs @ragwire/store installed). */
  path?: string;
  /** Remote: one entry per shard, each the URLs of its replicas (`tcp://`, `unix://`). */
  shards?: string[][];
  /** Remote: bearer token for every shard server. */
  token?: string;
  /** An existing collection handle, from this or any other copy of @ragwire/client; the caller keeps ownership (close() leaves it open). */
  client?: ShardedCollection;
  /** Further ShardedCollection options (timeouts, hedging, cache) for `path` and `shards`. */
  clientOptions?: Omit<ShardedCollectionOptions, 'shards' | 'collection' | 'token'>;
}

/** How a collection created on first write is indexed. */
export interface CollectionSpec {
  /** Default "cosine". */
  metric?: Metric;
  /** Default "hnsw". */
  kind?: IndexKind;
  /** Default "f32". */
  storage?: Storage;
  params?: Record<string, number>;
  /** The text index's tokenizer and BM25 parameters (docs/search.md §1). Default: language none, k1 0.9, b 0.4. */
  text?: TextSettings;
}

/** How searches run and writes are split. */
export interface SearchSettings {
  /** Brute-force search whatever the index kind: exact top-k. Default false. */
  exact?: boolean;
  /** HNSW candidate list size per search, within INDEX_PARAM_RANGES.efSearch. Default: the collection's. */
  efSearch?: number;
  /** Documents per upsert request, at most DEFAULT_LIMITS.maxWriteBatch. Default 1000. */
  batchSize?: number;
}

export interface CollectionHandleOptions extends CollectionTarget, CollectionSpec, SearchSettings {}

const DEFAULT_BATCH_SIZE = 1000;

/**
 * `k` (results per query) checked against the protocol's range where it enters: not a positive
 * integer is InvalidArgumentError, above DEFAULT_LIMITS.maxK LimitExceededError. `name` is the
 * caller's word for it (`similarityTopK`, `fetchK`).
 */
export function checkK(k: unknown, name = 'k'): number {
  return checkIntInRange(name, k, [1, DEFAULT_LIMITS.maxK]);
}

/**
 * One collection, opened from a CollectionTarget and created with a CollectionSpec on the first
 * write. A collection that does not exist yet reads as empty: queries find nothing, deletes delete
 * nothing. Every option is checked here, at construction, with the field named.
 */
export class CollectionHandle {
  /** The underlying ragwire collection. */
  readonly collection: ShardedCollection;
  /** Documents per upsert request. */
  readonly batchSize: number;
  /** Whether close() closes `collection` (false for an injected client). */
  private readonly owned: boolean;
  private readonly spec: CollectionSpec;
  private readonly queryOptions: QueryOptions;
  private ready: Promise<CollectionInfo> | undefined;

  /**
   * Throws InvalidArgumentError unless exactly one of `path`, `shards` and `client` is given, and
   * InvalidArgumentError or LimitExceededError for an efSearch or batchSize out of range. `who`
   * names the caller in messages.
   */
  constructor(options: CollectionHandleOptions | undefined, who: string) {
    const o = options ?? {};
    if (o.efSearch !== undefined) checkIntInRange('efSearch', o.efSearch, INDEX_PARAM_RANGES.efSearch);
    this.batchSize = checkIntInRange('batchSize', o.batchSize ?? DEFAULT_BATCH_SIZE, [1, DEFAULT_LIMITS.maxWriteBatch]);
    this.spec = {
      ...(o.metric ? { metric: o.metric } : {}),
      ...(o.kind ? { kind: o.kind } : {}),
      ...(o.storage ? { storage: o.storage } : {}),
      ...(o.params ? { params: o.params } : {}),
      ...(o.text ? { text: o.text } : {}),
    };
    this.queryOptions = { ...(o.exact ? { exact: true } : {}), ...(o.efSearch !== undefined ? { efSearch: o.efSearch } : {}) };
    const { collection, owned } = openTarget(o, who);
    this.collection = collection;
    this.owned = owned;
  }

  /**
   * The collection's info, creating it with the spec and `dim` on the first call. An existing
   * collection of another dimension is refused with DimensionMismatchError. A failed attempt is
   * tried again on the next call.
   */
  async ensure(dim: number): Promise<CollectionInfo> {
    this.ready ??= createIfMissing(this.collection, dim, this.spec).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    const info = await this.ready;
    if (info.dim !== dim) throw new DimensionMismatchError(`collection ${this.collection.collection} has dim ${info.dim}, the embeddings have dim ${dim}`);
    return info;
  }

  /** The collection's info, or undefined when it does not exist yet. */
  async describe(): Promise<CollectionInfo | undefined> {
    try {
      return await this.collection.describe();
    } catch (error) {
      if (isUnknownCollection(error)) return undefined;
      throw error;
    }
  }

  /**
   * Writes one document per id (`rows[i]` its vector, `payloads[i]` its text and metadata) in
   * requests of `batchSize`, creating the collection first. Every row must have the first row's length.
   * `sparse`, when given, holds one sparse vector (or null) per id (docs/search.md §2).
   */
  async upsert(
    ids: readonly string[],
    rows: readonly ArrayLike<number>[],
    payloads: readonly Payload[],
    sparse?: readonly (SparseVector | null)[],
  ): Promise<void> {
    const n = ids.length;
    if (rows.length !== n || payloads.length !== n) throw new InvalidArgumentError(`got ${n} ids, ${rows.length} vectors and ${payloads.length} payloads`);
    if (sparse !== undefined && sparse.length !== n) throw new InvalidArgumentError(`got ${n} ids and ${sparse.length} sparse vectors`);
    if (n === 0) return;
    const dim = rows[0]!.length;
    rows.forEach((row, i) => {
      if (row.length !== dim) throw new InvalidArgumentError(`vector ${i} (id ${ids[i]}) has ${row.length} dimensions, vector 0 has ${dim}`);
    });
    await this.ensure(dim);
    for (let start = 0; start < n; start += this.batchSize) {
      const end = Math.min(n, start + this.batchSize);
      const vectors = new Float32Array((end - start) * dim);
      for (let i = start; i < end; i++) vectors.set(rows[i]!, (i - start) * dim);
      await this.collection.upsert({
        ids: ids.slice(start, end),
        vectors,
        payloads: payloads.slice(start, end),
        ...(sparse ? { sparse: sparse.slice(start, end) } : {}),
      });
    }
  }

  /**
   * One query with the handle's search settings (exact, efSearch) under `q.options`. With
   * `accept`, candidates are fetched and filtered in this process (queryWithPredicate). A
   * collection that does not exist yet answers no hits.
   */
  async query(q: ShardedQuery, accept?: PayloadPredicate): Promise<ShardedResult> {
    checkK(q.k);
    const query: ShardedQuery = { ...q, options: { ...this.queryOptions, ...q.options } };
    try {
      return accept ? await queryWithPredicate(this.collection, query, accept) : await this.collection.query(query);
    } catch (error) {
      if (!isUnknownCollection(error)) throw error;
      const empty: ShardedResult = { k: q.k, counts: new Uint32Array(1), ids: [], scores: new Float32Array(0), partial: false, missingShards: [] };
      if (query.options?.withPayload) empty.payloads = [];
      if (query.options?.withVectors) empty.vectors = new Float32Array(0);
      return empty;
    }
  }

  /** Deletes by ids or by filter; a collection that does not exist yet has nothing to delete. */
  async delete(what: { ids: string[] } | { filter: Filter }): Promise<void> {
    try {
      await this.collection.delete(what);
    } catch (error) {
      if (!isUnknownCollection(error)) throw error;
    }
  }

  /** Closes the connections (or the embedded store) this handle opened; an injected client stays open. */
  async close(): Promise<void> {
    if (this.owned) await this.collection.close();
  }
}

function openTarget(target: CollectionTarget, who: string): { collection: ShardedCollection; owned: boolean } {
  const given = (['path', 'shards', 'client'] as const).filter((k) => target[k] !== undefined);
  if (given.length !== 1) {
    throw new InvalidArgumentError(
      `${who} needs exactly one of path (embedded), shards (remote shard servers) or client (a ShardedCollection); got ` +
        (given.length === 0 ? 'none' : given.join(' and ')),
    );
  }
  if (target.client !== undefined) {
    if (!isShardedCollection(target.client)) throw new InvalidArgumentError(`${who}: client must be a ShardedCollection`);
    return { collection: target.client, owned: false };
  }
  const name = target.collection ?? 'documents';
  if (target.path !== undefined) {
    if (typeof target.path !== 'string' || target.path === '') throw new InvalidArgumentError(`${who}: path must be a non-empty directory path`);
    const url = target.path.startsWith('embedded://') ? target.path : `embedded://${encodeURI(target.path)}`;
    return { collection: new ShardedCollection({ ...target.clientOptions, shards: [[url]], collection: name }), owned: true };
  }
  const options: ShardedCollectionOptions = { ...target.clientOptions, shards: target.shards!, collection: name };
  if (target.token !== undefined) options.token = target.token;
  return { collection: new ShardedCollection(options), owned: true };
}

async function createIfMissing(c: ShardedCollection, dim: number, spec: CollectionSpec): Promise<CollectionInfo> {
  try {
    return await c.describe();
  } catch (error) {
    if (!isUnknownCollection(error)) throw error;
  }
  const created = await c.createCollection({
    dim,
    metric: spec.metric ?? 'cosine',
    kind: spec.kind ?? 'hnsw',
    storage: spec.storage ?? 'f32',
    ...(spec.params ? { params: spec.params } : {}),
    ...(spec.text ? { text: spec.text } : {}),
    ifNotExists: true,
  });
  return created.info;
}

function isUnknownCollection(error: unknown): boolean {
  return hasCode(error, 'RAGWIRE_ERR_UNKNOWN_COLLECTION');
}
