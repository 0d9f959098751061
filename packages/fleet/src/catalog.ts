// The fleet's catalog in JetStream KV (docs/architecture.md "Fleet"): which collections exist (their
// create spec, so a new shard server creates them) and each collection's shard map, changed only by
// compare-and-set on its KV revision.
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { InvalidArgumentError, StaleEpochError, type CreateRequest } from '@ragwire/protocol';
import { checkBuckets, collectionToken, DEFAULT_PREFIX } from './buckets';
import { logError } from './nats-errors';
import { openExisting } from './nats-connection';

/** What a shard server needs to create a collection: the CREATE request less its type, plus the bucket count. */
export type CollectionSpec = Omit<CreateRequest, 'type' | 'ifNotExists'> & { buckets: number };

/** A layout of buckets over shards: `shards[s]` lists the member ids of shard s's replicas; `owner[b]` is the shard of bucket b. */
export interface ShardLayout {
  shards: string[][];
  owner: number[];
}

/**
 * Which shard holds each bucket. `epoch` grows by one with every change of `shards` or `owner` (what
 * clients route by). `next`, while a rebalance is under way, is the layout being moved to: its members
 * already follow its buckets, the current layout still answers queries. `dropGraceMs`: how long a member
 * keeps the documents of buckets it no longer holds (queries routed by the previous epoch still reach it).
 */
export interface ShardMap extends ShardLayout {
  epoch: number;
  buckets: number;
  next?: ShardLayout & { id: string };
  dropGraceMs?: number; // ms
}

/** How long a member keeps the documents of buckets that moved away unless the map says otherwise. */
export const DEFAULT_DROP_GRACE_MS = 30_000;

/** A shard map with `buckets` spread evenly over `shards` (bucket b to shard b mod n). */
export function evenShardMap(buckets: number, shards: string[][], epoch = 1): ShardMap {
  checkBuckets(buckets);
  if (shards.length === 0 || shards.some((s) => s.length === 0)) throw new InvalidArgumentError('every shard needs at least one member');
  return { epoch, buckets, shards, owner: Array.from({ length: buckets }, (_, b) => b % shards.length) };
}

/** The buckets `member` holds under `map` (the current layout: what it answers queries for). */
export function bucketsOfMember(map: ShardLayout, member: string): Set<number> {
  const mine = new Set<number>();
  map.shards.forEach((members, s) => {
    if (!members.includes(member)) return;
    map.owner.forEach((o, b) => o === s && mine.add(b));
  });
  return mine;
}

/** The buckets `member` applies from the log under `map`: those it holds now and those a pending rebalance moves to it. */
export function bucketsToFollow(map: ShardMap, member: string): Set<number> {
  const mine = bucketsOfMember(map, member);
  if (map.next) for (const b of bucketsOfMember(map.next, member)) mine.add(b);
  return mine;
}

export class FleetCatalog {
  readonly #kv: KV;

  private constructor(kv: KV) {
    this.#kv = kv;
  }

  /** Opens (creating if missing) the catalog bucket `<prefix>-catalog`. */
  static async open(nc: NatsConnection, options: { prefix?: string; replicas?: number } = {}): Promise<FleetCatalog> {
    const name = `${options.prefix ?? DEFAULT_PREFIX}-catalog`;
    try {
      // An existing bucket is used as it is (whoever created it chose its replicas).
      const kv = (await openExisting(nc, name)) ?? (await new Kvm(nc).create(name, { history: 5, replicas: options.replicas ?? 1 }));
      return new FleetCatalog(kv);
    } catch (error) {
      throw logError('opening the fleet catalog', error);
    }
  }

  async putCollection(spec: CollectionSpec): Promise<void> {
    checkBuckets(spec.buckets);
    await this.#kv
      .put(`collections.${collectionToken(spec.collection)}`, JSON.stringify(spec))
      .catch((e: unknown) => Promise.reject(logError('catalog put', e)));
  }

  async deleteCollection(collection: string): Promise<void> {
    const token = collectionToken(collection);
    await this.#kv.delete(`collections.${token}`).catch((e: unknown) => Promise.reject(logError('catalog delete', e)));
    await this.#kv.delete(`shardmap.${token}`).catch(() => undefined);
  }

  /** Calls `onChange` with each collection's spec as it is now, then with every change (null: dropped) until the signal aborts. */
  async watchCollections(onChange: (collection: string, spec: CollectionSpec | null) => void, signal: AbortSignal): Promise<void> {
    await this.#watch('collections.>', (key, value) => onChange(fromToken(key.slice('collections.'.length)), value as CollectionSpec | null), signal);
  }

  /** The collection's shard map and its KV revision, or undefined when none was set. */
  async shardMap(collection: string): Promise<{ map: ShardMap; revision: number } | undefined> {
    const e = await this.#kv.get(`shardmap.${collectionToken(collection)}`).catch((err: unknown) => Promise.reject(logError('catalog get', err)));
    if (e?.operation !== 'PUT') return undefined;
    return { map: e.json<ShardMap>(), revision: e.revision };
  }

  /**
   * Replaces the shard map if its revision is still `revision` (0: only if none exists); the new map's
   * epoch must be the old one's plus one. Fails with RAGWIRE_ERR_STALE_EPOCH when someone changed it first.
   */
  async casShardMap(collection: string, map: ShardMap, revision: number): Promise<number> {
    const key = `shardmap.${collectionToken(collection)}`;
    try {
      return revision === 0 ? await this.#kv.create(key, JSON.stringify(map)) : await this.#kv.update(key, JSON.stringify(map), revision);
    } catch (error) {
      if (/wrong last sequence|key exists|10071/i.test(String(error))) {
        throw new StaleEpochError(`the shard map of ${collection} changed since revision ${revision}: read it again`, { cause: error });
      }
      throw logError('catalog compare-and-set', error);
    }
  }

  /** Calls `onChange` with the collection's shard map now and after each change, until the signal aborts. */
  async watchShardMap(collection: string, onChange: (map: ShardMap | null) => void, signal: AbortSignal): Promise<void> {
    await this.#watch(`shardmap.${collectionToken(collection)}`, (_key, value) => onChange(value as ShardMap | null), signal);
  }

  async #watch(key: string, onChange: (key: string, value: unknown) => void, signal: AbortSignal): Promise<void> {
    const iter = await this.#kv.watch({ key }).catch((e: unknown) => Promise.reject(logError('catalog watch', e)));
    signal.addEventListener('abort', () => iter.stop(), { once: true });
    void (async () => {
      for await (const e of iter) onChange(e.key, e.operation === 'PUT' ? e.json() : null);
    })().catch(() => undefined);
  }
}

function fromToken(token: string): string {
  return token.replaceAll('=2E', '.');
}
