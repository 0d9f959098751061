// N shards x R replicas behind one collection: id-hash routing for writes, fan-out and merge for queries.
import {
  hasCode,
  InvalidArgumentError,
  InvalidFilterError,
  ShardTimeoutError,
  sumTextStats,
  isEmptyFilter,
  validateFilter,
  ShardUnavailableError,
  isRagwireError,
  type CollectionInfo,
  type CreateRequest,
  type Filter,
  type Payload,
  type ResultReply,
  type SnapshotInfo,
  type StatValue,
  type SparseVector,
  type TextStats,
} from '@ragwire/protocol';
import { FleetTopology } from './fleet-topology';
import { hybridQuery, needsClientFusion } from './hybrid-query';
import type { WriteLog } from '@ragwire/fleet';
import { hedgedRequest, isReplicaFault } from './hedged-request';
import { shardOf } from './jump-hash';
import { mergeTopK } from './merge-top-k';
import { QueryCache, queryCacheKey, type QueryCacheOptions } from './query-cache';
import { ShardClient, type ShardClientOptions } from './shard-client';
import type { ShardedQuery, ShardedResult } from './sharded-query';
import { upsertBatchesByShard } from './write-routing';

export interface ShardedCollectionOptions {
  /** One entry per shard, each the URLs of its replicas: `[[a1, a2], [b1]]`. The order of shards is part of the routing: never reorder. */
  shards: string[][];
  collection: string;
  /** Bearer token for every server. */
  token?: string;
  /** The collection's dimension; learnt from DESCRIBE on first use when absent. */
  dim?: number;
  /** Send a read to another replica of a shard that has not answered after this long. Default: off. */
  hedgeAfterMs?: number;
  /** A whole call (every shard, hedges and retries included) fails after this long. Default 10000 ms. */
  timeoutMs?: number;
  /** When a shard has no replica answering: 'fail' rejects with ShardUnavailableError (default); 'allow' answers with `partial: true`. */
  partial?: 'fail' | 'allow';
  /** Exact query-result cache, invalidated by every write through this object. Default: off. */
  cache?: boolean | QueryCacheOptions;
  /** Options for each ShardClient (connections, backoff, transport, ...). */
  client?: Omit<ShardClientOptions, 'token' | 'timeoutMs'>;
  /** Called after every query that reached the shards (not for cache hits) with where its time went. */
  onQuery?: (timing: QueryTiming) => void;
  /**
   * A fleet's write log (@ragwire/fleet WriteLog.connect): upserts and deletes are appended to the
   * collection's stream and resolve on its acknowledgement; the shard servers (started with --nats)
   * apply them. Default: none, every replica is written directly. With a log, queries route by the
   * collection's shard map in the catalog (when it has one): `shards` then lists the map's members' URLs in
   * its order, and shards added by a rebalance are found through membership.
   */
  log?: WriteLog;
  /**
   * With `log`: 'session' (default) makes each query carry this object's last acknowledged log
   * position (`minSeq`), so it sees this object's writes; 'eventual' skips the wait.
   */
  consistency?: 'session' | 'eventual';
}

/** Where one query's time went, as seen by the client. */
export interface QueryTiming {
  /** Per shard, ms from sending to its answer (hedges included); NaN for a shard that did not answer. */
  shardMs: number[];
  /** ms spent merging the shards' top-k lists. */
  mergeMs: number;
  /** ms for the whole call, fan-out to merged result. */
  totalMs: number;
  /** Number of query vectors. */
  n: number;
}

export interface ShardedUpsert {
  ids: string[];
  /** ids.length x dim float32, row-major. */
  vectors: Float32Array;
  payloads?: (Payload | null)[];
  /** One sparse vector (or null) per id (docs/search.md §2). */
  sparse?: (SparseVector | null)[];
}

/** Marks every ShardedCollection; a registered symbol, so each copy of this package sets the same one. */
const BRAND = Symbol.for('ragwire.ShardedCollection');

/** True for a ShardedCollection from any copy of this package (an app may load two; `instanceof` sees one). */
export function isShardedCollection(value: unknown): value is ShardedCollection {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * A collection spread over shard servers. Writes go to every replica of the shard that owns each
 * id (jump consistent hash of the id's FNV-1a 64), and resolve once all of them are durable.
 * Queries go to all shards at once, each asked for k, and merge into the global top-k.
 *
 * Replicas are written independently (no log between them yet): a write that fails on one replica
 * rejects, and the caller retries it (upserts and deletes by id are idempotent).
 */
export class ShardedCollection {
  readonly collection: string;
  private replicas: ShardClient[][];
  private readonly clientOptions: ShardClientOptions;
  private readonly topology: FleetTopology | undefined;
  private readonly timeoutMs: number;
  private readonly hedgeAfterMs: number | undefined;
  private readonly partial: 'fail' | 'allow';
  private readonly cache: QueryCache<ShardedResult> | undefined;
  private readonly onQuery: ((timing: QueryTiming) => void) | undefined;
  private readonly log: WriteLog | undefined;
  private readonly consistency: 'session' | 'eventual';
  /** The largest log position this object's writes were acknowledged at (0: none yet). */
  private sessionSeq = 0;
  private dim: number | undefined;
  private dimLookup: Promise<number> | undefined;
  private rotation = 0;
  /** Bumped by every write: a query that started before a write does not fill the cache. */
  private writeGeneration = 0;

  constructor(options: ShardedCollectionOptions) {
    if (!Array.isArray(options.shards) || options.shards.length === 0) throw new InvalidArgumentError('shards must list at least one shard');
    options.shards.forEach((urls, i) => {
      if (!Array.isArray(urls) || urls.length === 0) throw new InvalidArgumentError(`shards[${i}] must list at least one replica URL`);
    });
    if (typeof options.collection !== 'string' || options.collection === '') throw new InvalidArgumentError('collection must be a non-empty string');
    if (options.partial !== undefined && options.partial !== 'fail' && options.partial !== 'allow') {
      throw new InvalidArgumentError(`partial must be 'fail' or 'allow', got ${JSON.stringify(options.partial)}`);
    }
    this.collection = options.collection;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.hedgeAfterMs = options.hedgeAfterMs;
    this.partial = options.partial ?? 'fail';
    this.dim = options.dim;
    const clientOptions: ShardClientOptions = { ...options.client, timeoutMs: this.timeoutMs };
    if (options.token !== undefined) clientOptions.token = options.token;
    this.clientOptions = clientOptions;
    this.replicas = options.shards.map((urls) => urls.map((url) => new ShardClient(url, clientOptions)));
    if (options.cache) this.cache = new QueryCache(options.cache === true ? {} : options.cache);
    this.onQuery = options.onQuery;
    if (options.consistency !== undefined && options.consistency !== 'session' && options.consistency !== 'eventual') {
      throw new InvalidArgumentError(`consistency must be 'session' or 'eventual', got ${JSON.stringify(options.consistency)}`);
    }
    this.log = options.log;
    this.consistency = options.consistency ?? 'session';
    Object.defineProperty(this, BRAND, { value: true });
    if (this.log) this.topology = new FleetTopology(this.log, this.collection, options.shards, (shards) => this.useShards(shards));
  }

  /** Shards in routing order (with a log: as the shard map in use says). */
  get shardCount(): number {
    return this.replicas.length;
  }

  /** With a log: the position of this object's last acknowledged write, for another reader's `minSeq`. */
  get lastSeq(): number {
    return this.sessionSeq;
  }

  /** Hit and miss counts of the query cache (zeros when it is off). */
  get cacheStats(): { hits: number; misses: number; size: number } {
    return { hits: this.cache?.hits ?? 0, misses: this.cache?.misses ?? 0, size: this.cache?.size ?? 0 };
  }

  /** Creates the collection on every replica of every shard. */
  async createCollection(spec: Omit<CreateRequest, 'type' | 'collection'>): Promise<{ created: boolean; info: CollectionInfo }> {
    this.invalidate();
    const replies = await this.everyReplica((c) => c.createCollection({ ...spec, collection: this.collection, ...(this.log ? { ifNotExists: true } : {}) }));
    // A fleet learns of the collection from its catalog (a server started later creates it too), once
    // the replicas have accepted its settings: settings a server refuses never reach the catalog.
    if (this.log) await this.log.register({ ...spec, collection: this.collection });
    this.dim = spec.dim;
    return { created: replies.some((r) => r.created), info: { ...replies[0]!.info, count: 0 } };
  }

  /** Drops the collection on every replica of every shard. */
  async drop(options: { ifExists?: boolean } = {}): Promise<{ dropped: boolean }> {
    this.invalidate();
    if (this.log) await this.log.unregister(this.collection);
    const replies = await this.everyReplica((c) => c.request({ type: 'drop', collection: this.collection, ...options }));
    this.dim = undefined;
    this.dimLookup = undefined;
    return { dropped: replies.some((r) => r.dropped) };
  }

  /** The collection's info, `count` summed over shards (one replica of each asked). */
  async describe(): Promise<CollectionInfo> {
    const infos = await this.eachShard((c) => c.request({ type: 'describe', collection: this.collection }));
    const first = infos[0]!.collections[0]!;
    return { ...first, count: infos.reduce((sum, r) => sum + (r.collections[0]?.count ?? 0), 0) };
  }

  /** Each shard's stats, in shard order (one replica of each asked). */
  stats(): Promise<Record<string, StatValue>[]> {
    return this.eachShard((c) => c.request({ type: 'stats', collection: this.collection })).then((r) => r.map((s) => s.stats));
  }

  /**
   * BM25 statistics over every shard for the terms of `texts`: documents, tokens and per-term
   * document frequencies, summed (one STATS round trip to one replica of each shard).
   */
  async textStats(texts: string[]): Promise<TextStats> {
    const replies = await this.eachShard((c, timeoutMs) => c.request({ type: 'stats', collection: this.collection, text: texts }, { timeoutMs }));
    return sumTextStats(replies.map((r) => r.stats));
  }

  /** Snapshots the collection on every replica of every shard. */
  async snapshot(): Promise<SnapshotInfo[]> {
    const replies = await this.everyReplica((c) => c.request({ type: 'snapshot', collection: this.collection }));
    return replies.flatMap((r) => r.snapshots);
  }

  /**
   * Inserts or replaces documents; resolves once every replica of every owning shard made them durable,
   * or with a log once the log acknowledged them (`seq`: their position).
   */
  async upsert(batch: ShardedUpsert): Promise<{ upserted: number; seq?: number }> {
    const n = batch.ids.length;
    if (n === 0) return { upserted: 0 };
    if (batch.vectors.length % n !== 0) throw new InvalidArgumentError(`vectors.length ${batch.vectors.length} is not a multiple of ids.length ${n}`);
    const dim = batch.vectors.length / n;
    if (batch.payloads && batch.payloads.length !== n) throw new InvalidArgumentError(`payloads.length ${batch.payloads.length} differs from ids.length ${n}`);
    this.invalidate();
    try {
      if (this.log) {
        const at = await this.log.appendUpsert(this.collection, {
          dim,
          ids: batch.ids,
          vectors: batch.vectors,
          ...(batch.payloads ? { payloads: batch.payloads } : {}),
        });
        this.sessionSeq = Math.max(this.sessionSeq, at.seq);
        return { upserted: n, seq: at.seq };
      }
      const parts = upsertBatchesByShard(batch, dim, this.shardCount);
      await Promise.all(
        parts.map((part, shard) =>
          part === undefined ? undefined : Promise.all(this.replicas[shard]!.map((c) => c.upsert({ collection: this.collection, dim, ...part }))),
        ),
      );
    } finally {
      this.invalidate();
    }
    return { upserted: n };
  }

  /**
   * Deletes documents by id (routed to their shards), by a non-empty filter, or every document
   * with `{ all: true }` (both sent to every shard). An empty filter is refused (RAGWIRE_ERR_INVALID_FILTER).
   * With a log the delete is appended and resolves on the acknowledgement: `deleted` is -1 (the count is
   * known only where it is applied) and `seq` its position. A filter is applied by every replica at that
   * position of the log, to the documents it holds then (docs/architecture.md "Fleet").
   */
  async delete(what: { ids: string[] } | { filter: Filter } | { all: true }): Promise<{ deleted: number; seq?: number }> {
    this.invalidate();
    try {
      if (this.log) {
        if ('filter' in what && isEmptyFilter(validateFilter(what.filter))) {
          throw new InvalidFilterError('delete with an empty filter would delete every document; pass { all: true } to mean that');
        }
        if ('ids' in what && what.ids.length === 0) return { deleted: 0 };
        const at = await this.log.appendDelete(this.collection, what);
        this.sessionSeq = Math.max(this.sessionSeq, at.seq);
        return { deleted: -1, seq: at.seq };
      }
      if (!('ids' in what)) {
        const request = 'filter' in what ? { collection: this.collection, filter: what.filter } : { collection: this.collection, all: what.all };
        const replies = await Promise.all(this.replicas.map((rs) => Promise.all(rs.map((c) => c.delete(request)))));
        return { deleted: replies.reduce((sum, r) => sum + r[0]!.deleted, 0) };
      }
      const ids = (what as { ids: string[] }).ids;
      const byShard: string[][] = Array.from({ length: this.shardCount }, () => []);
      for (const id of ids) byShard[shardOf(id, this.shardCount)]!.push(id);
      const replies = await Promise.all(
        byShard.map((shardIds, shard) =>
          shardIds.length === 0 ? [{ deleted: 0 }] : Promise.all(this.replicas[shard]!.map((c) => c.delete({ collection: this.collection, ids: shardIds }))),
        ),
      );
      return { deleted: replies.reduce((sum, r) => sum + r[0]!.deleted, 0) };
    } finally {
      this.invalidate();
    }
  }

  /**
   * The global top-k of each query, merged from every shard's top-k. A text or hybrid query over
   * several shards gathers global BM25 statistics first and fuses on the client (docs/search.md §3).
   */
  async query(q: ShardedQuery): Promise<ShardedResult> {
    if (!this.topology) return this.queryOnce(q);
    await this.topology.start();
    // A shard whose map is newer refuses the query: read the map again and retry (bounded).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.queryOnce(q);
      } catch (error) {
        if (!hasCode(error, 'RAGWIRE_ERR_STALE_EPOCH') || attempt >= 5) throw error;
        await this.topology.refresh();
      }
    }
  }

  private async queryOnce(q: ShardedQuery): Promise<ShardedResult> {
    if (needsClientFusion(q, this.shardCount)) return hybridQuery(this, q);
    const lexical = q.text !== undefined || q.sparse !== undefined;
    const dim = lexical && q.vectors.length === 0 ? 0 : (this.dim ?? (await this.lookupDim()));
    if (dim > 0 ? q.vectors.length === 0 || q.vectors.length % dim !== 0 : q.vectors.length !== 0) {
      throw new InvalidArgumentError(`vectors.length must be a positive multiple of dim ${dim}, got ${q.vectors.length}`);
    }
    const n = dim > 0 ? q.vectors.length / dim : (q.text ?? q.sparse)!.length;
    const key = this.cache && !lexical ? queryCacheKey(this.collection, q.vectors, q.k, q.filter, q.options) : undefined;
    if (key !== undefined) {
      const hit = this.cache!.get(key);
      if (hit) return hit;
    }
    const generation = this.writeGeneration;
    const perShardK = Math.max(q.k, Math.ceil(q.k * (q.oversample ?? 1)));
    const minSeq = Math.max(q.minSeq ?? 0, this.log && this.consistency === 'session' ? this.sessionSeq : 0);
    const epoch = this.topology?.epoch ?? 0;
    const options = minSeq > 0 || epoch > 0 ? { ...q.options, ...(minSeq > 0 ? { minSeq } : {}), ...(epoch > 0 ? { epoch } : {}) } : q.options;
    const request = {
      collection: this.collection,
      dim,
      k: perShardK,
      vectors: q.vectors,
      ...(q.filter ? { filter: q.filter } : {}),
      ...(options ? { options } : {}),
      ...(q.text ? { text: q.text } : {}),
      ...(q.sparse ? { sparse: q.sparse } : {}),
      ...(q.prefetch !== undefined ? { prefetch: q.prefetch } : {}),
      ...(q.fusion ? { fusion: q.fusion } : {}),
      ...(q.textStats ? { textStats: q.textStats } : {}),
    };
    const start = this.rotation++;
    const sentAt = this.onQuery ? performance.now() : 0;
    const shardMs = this.onQuery ? new Array<number>(this.shardCount).fill(Number.NaN) : undefined;
    const settled = await Promise.allSettled(
      this.replicas.map((replicas, shard) => {
        if (replicas.length === 0) return Promise.reject(new ShardUnavailableError(`shard ${shard} has no live member`));
        const span = q.trace?.shard(shard);
        const sent = span ? { ...request, trace: span.traceparent } : request;
        let reply = hedgedRequest(replicas, { start, hedgeAfterMs: this.hedgeAfterMs, timeoutMs: this.timeoutMs, shard }, (c, timeoutMs) =>
          c.query(sent, { timeoutMs }),
        );
        if (span)
          reply = reply.then(
            (r) => (span.end(), r),
            (error: Error) => (span.end(error), Promise.reject(error)),
          );
        return shardMs
          ? reply.then((r) => {
              shardMs[shard] = performance.now() - sentAt;
              return r;
            })
          : reply;
      }),
    );
    const lists: ResultReply[] = [];
    const missingShards: number[] = [];
    let firstFault: unknown;
    for (let shard = 0; shard < settled.length; shard++) {
      const s = settled[shard]!;
      if (s.status === 'fulfilled') lists.push(s.value);
      else if (isReplicaFault(s.reason)) {
        missingShards.push(shard);
        firstFault ??= s.reason;
      } else throw s.reason;
    }
    if (missingShards.length > 0 && (this.partial === 'fail' || lists.length === 0)) {
      const message = `shard(s) ${missingShards.join(', ')} of ${this.shardCount} did not answer: ${(firstFault as Error).message}`;
      // Every missing shard timed out: say so; any shard unreachable: unavailable.
      const allTimedOut = missingShards.every((s) => hasCode((settled[s] as PromiseRejectedResult).reason, 'RAGWIRE_ERR_SHARD_TIMEOUT'));
      throw allTimedOut ? new ShardTimeoutError(message, { cause: firstFault }) : new ShardUnavailableError(message, { cause: firstFault });
    }
    const mergeStart = shardMs ? performance.now() : 0;
    const merged = mergeTopK(lists, n, q.k, lexical ? 'id' : 'list');
    if (shardMs) {
      const end = performance.now();
      this.onQuery!({ shardMs, mergeMs: end - mergeStart, totalMs: end - sentAt, n });
    }
    const result: ShardedResult = { k: q.k, counts: merged.counts, ids: merged.ids, scores: merged.scores, partial: missingShards.length > 0, missingShards };
    if (merged.payloads) result.payloads = merged.payloads;
    if (merged.vectors) result.vectors = merged.vectors;
    if (lists.some((l) => l.exact !== undefined)) result.exact = lists.every((l) => l.exact === true);
    if (key !== undefined && !result.partial && generation === this.writeGeneration) this.cache!.set(key, result);
    return result;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.topology?.close();
    await Promise.all([...this.replicas.flat(), ...this.retired].map((c) => c.close()));
  }

  /** Clients of shards no longer routed to, closed once queries already sent to them had time to finish. */
  private readonly retired = new Set<ShardClient>();

  /** Routes by a new layout (a shard map's change): clients of URLs kept are reused. */
  private useShards(shards: string[][]): void {
    const byUrl = new Map(this.replicas.flat().map((c) => [c.url, c]));
    this.replicas = shards.map((urls) => urls.map((url) => byUrl.get(url) ?? new ShardClient(url, this.clientOptions)));
    const kept = new Set(this.replicas.flat());
    for (const c of byUrl.values()) {
      if (kept.has(c)) continue;
      this.retired.add(c);
      setTimeout(() => void c.close().finally(() => this.retired.delete(c)), this.timeoutMs).unref();
    }
    this.invalidate();
  }

  private invalidate(): void {
    this.writeGeneration++;
    this.cache?.clear();
  }

  private lookupDim(): Promise<number> {
    // Any one shard knows the dimension: a dead shard must not stop a partial-tolerant query.
    const start = this.rotation++;
    this.dimLookup ??= Promise.any(
      this.replicas.map((replicas, shard) =>
        hedgedRequest(replicas, { start, hedgeAfterMs: this.hedgeAfterMs, timeoutMs: this.timeoutMs, shard }, (c, timeoutMs) =>
          c.request({ type: 'describe', collection: this.collection }, { timeoutMs }),
        ),
      ),
    ).then(
      (reply) => (this.dim = reply.collections[0]!.dim),
      (error: unknown) => {
        this.dimLookup = undefined;
        throw error instanceof AggregateError ? error.errors[0] : error;
      },
    );
    return this.dimLookup;
  }

  /** One read per shard, hedged across its replicas; fails when any shard has no replica answering. */
  private eachShard<T>(send: (c: ShardClient, timeoutMs: number) => Promise<T>): Promise<T[]> {
    const start = this.rotation++;
    return Promise.all(
      this.replicas.map((replicas, shard) => hedgedRequest(replicas, { start, hedgeAfterMs: this.hedgeAfterMs, timeoutMs: this.timeoutMs, shard }, send)),
    );
  }

  private async everyReplica<T>(send: (c: ShardClient) => Promise<T>): Promise<T[]> {
    const settled = await Promise.allSettled(this.replicas.flat().map(send));
    const failed = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw isRagwireError(failed.reason) ? failed.reason : new ShardUnavailableError(String(failed.reason));
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  }
}
