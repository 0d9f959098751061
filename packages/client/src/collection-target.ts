// Where a framework adapter's documents live: an embedded directory, shard servers, or a caller's ShardedCollection.
import {
  hasCode,
  DimensionMismatchError,
  InvalidArgumentError,
  type CollectionInfo,
  type IndexKind,
  type Metric,
  type Storage,
  type TextSettings,
} from '@ragwire/protocol';
import { ShardedCollection, type ShardedCollectionOptions } from './sharded-collection';

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
  /** An existing collection handle; the caller keeps ownership (close() leaves it open). */
  client?: ShardedCollection;
  /** Further ShardedCollection options (timeouts, hedging, cache) for `path` and `shards`. */
  clientOptions?: Omit<ShardedCollectionOptions, 'shards' | 'collection' | 'token'>;
}

/** How a collection the adapter creates on first write is indexed. */
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

/**
 * Opens the target's collection handle. Throws InvalidArgumentError unless exactly one of `path`,
 * `shards` and `client` is given. `owned` says whether closing the adapter should close it.
 */
export function connectCollection(target: CollectionTarget | undefined, who: string): { collection: ShardedCollection; owned: boolean } {
  const given = (['path', 'shards', 'client'] as const).filter((k) => target?.[k] !== undefined);
  if (given.length !== 1) {
    throw new InvalidArgumentError(
      `${who} needs exactly one of path (embedded), shards (remote shard servers) or client (a ShardedCollection); got ` +
        (given.length === 0 ? 'none' : given.join(' and ')),
    );
  }
  const t = target!;
  if (t.client !== undefined) {
    if (!(t.client instanceof ShardedCollection)) throw new InvalidArgumentError(`${who}: client must be a ShardedCollection`);
    return { collection: t.client, owned: false };
  }
  const name = t.collection ?? 'documents';
  if (t.path !== undefined) {
    if (typeof t.path !== 'string' || t.path === '') throw new InvalidArgumentError(`${who}: path must be a non-empty directory path`);
    const url = t.path.startsWith('embedded://') ? t.path : `embedded://${encodeURI(t.path)}`;
    return { collection: new ShardedCollection({ ...t.clientOptions, shards: [[url]], collection: name }), owned: true };
  }
  const options: ShardedCollectionOptions = { ...t.clientOptions, shards: t.shards!, collection: name };
  if (t.token !== undefined) options.token = t.token;
  return { collection: new ShardedCollection(options), owned: true };
}

/**
 * The collection's info, creating it with `spec` and `dim` when it does not exist yet. An existing
 * collection of another dimension is refused with DimensionMismatchError.
 */
export async function ensureCollection(c: ShardedCollection, dim: number, spec: CollectionSpec = {}): Promise<CollectionInfo> {
  let info: CollectionInfo;
  try {
    info = await c.describe();
  } catch (error) {
    if (!(hasCode(error, 'RAGWIRE_ERR_UNKNOWN_COLLECTION'))) throw error;
    const created = await c.createCollection({
      dim, metric: spec.metric ?? 'cosine', kind: spec.kind ?? 'hnsw', storage: spec.storage ?? 'f32',
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.text ? { text: spec.text } : {}),
      ifNotExists: true,
    });
    info = created.info;
  }
  if (info.dim !== dim) throw new DimensionMismatchError(`collection ${c.collection} has dim ${info.dim}, the embeddings have dim ${dim}`);
  return info;
}
