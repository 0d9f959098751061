import { ShardedCollection, type QueryTiming } from '@ragwire/client';
import { isRagwireError, type Filter } from '@ragwire/protocol';
import { ProxyError } from '../errors';
import type { RagCollectionConfig, RagConfig } from './rag-config';

/** One retrieved source, as the answer's `ragwire.sources` lists it. */
export interface RagSource {
  id: string;
  /** The store's similarity score (higher is closer). */
  score: number;
  text: string;
  metadata: Record<string, unknown>;
  /** The reranker's relevance score, when the retrieval was reranked. */
  rerankScore?: number;
}

/** A configured collection and its open handle (opened on first use). */
interface OpenCollection {
  config: RagCollectionConfig;
  handle: ShardedCollection | undefined;
  /** The collection's dimension, learnt from DESCRIBE on first use. */
  dim: Promise<number> | undefined;
  /** Queries in flight on the handle: its onQuery timing is attributed to a query only when it is alone. */
  inflight: number;
  last: { timing: QueryTiming; at: number } | undefined;
}

/** Where a query's time went, per shard, when it could be told apart from the others in flight. */
export interface SearchTiming extends QueryTiming {
  /** performance.now() when the shards' answers were merged. */
  mergedAt: number;
}

/**
 * The collections the proxy retrieves from, through @ragwire/client (shard
 * servers, or an embedded store in this process). Store failures become the
 * proxy's typed errors: an unknown collection or a dimension mismatch is the
 * request's fault (400), shards that do not answer are `retrieval_failed`.
 */
export class CollectionRetriever {
  private readonly collections = new Map<string, OpenCollection>();

  constructor(private readonly config: Readonly<RagConfig>) {
    for (const [name, c] of Object.entries(config.collections)) this.collections.set(name, { config: c, handle: undefined, dim: undefined, inflight: 0, last: undefined });
  }

  /** The configured collection `name`; the caller validated that it exists. */
  collection(name: string): RagCollectionConfig {
    return this.entry(name).config;
  }

  /** The top `k` sources for `vector` in collection `name`, best first, and the query's timing when it was alone in flight. */
  async search(name: string, vector: Float32Array, k: number, filter: Filter | undefined): Promise<{ sources: RagSource[]; timing: SearchTiming | undefined }> {
    const entry = this.entry(name);
    const handle = this.open(name, entry);
    try {
      entry.dim ??= handle.describe().then((info) => info.dim);
      const dim = await entry.dim.catch((error: unknown) => {
        entry.dim = undefined; // ask again next time: the shard may come back, the collection may be created
        throw error;
      });
      if (dim !== vector.length) {
        throw new ProxyError('dimension_mismatch', `collection "${name}" holds ${dim}-dimensional vectors but ${entry.config.embeddingModel} returned ${vector.length} dimensions: the collection was embedded with another model`, 'ragwire.collection');
      }
      entry.inflight++;
      entry.last = undefined;
      let result;
      try {
        result = await handle.query({ vectors: vector, k, ...(filter ? { filter } : {}), options: { withPayload: true } });
      } finally {
        entry.inflight--;
      }
      const last = entry.last as OpenCollection['last']; // set by onQuery during the await
      entry.last = undefined;
      const n = result.counts[0] ?? 0;
      const sources: RagSource[] = [];
      for (let i = 0; i < n; i++) {
        const payload = result.payloads?.[i];
        sources.push({ id: result.ids[i]!, score: result.scores[i]!, text: payload?.text ?? '', metadata: payload?.metadata ?? {} });
      }
      return { sources, timing: last && { ...last.timing, mergedAt: last.at } };
    } catch (error) {
      throw asProxyError(error, name);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.collections.values()].map((c) => c.handle?.close()));
  }

  private entry(name: string): OpenCollection {
    const entry = this.collections.get(name);
    if (!entry) throw new ProxyError('unknown_collection', `unknown collection "${name}"`, 'ragwire.collection');
    return entry;
  }

  private open(name: string, entry: OpenCollection): ShardedCollection {
    if (entry.handle) return entry.handle;
    const c = entry.config;
    const shards = c.path !== undefined ? [[c.path.startsWith('embedded://') ? c.path : `embedded://${encodeURI(c.path)}`]] : c.shards!;
    entry.handle = new ShardedCollection({
      shards, collection: c.collection ?? name, timeoutMs: this.config.timeoutMs, ...(c.token !== undefined ? { token: c.token } : {}),
      // Called inside query(), just before it returns: attributable only while one query is in flight.
      onQuery: (timing) => (entry.last = entry.inflight === 1 ? { timing, at: performance.now() } : undefined),
    });
    return entry.handle;
  }
}

/** A store failure as the proxy's typed error. */
function asProxyError(error: unknown, name: string): unknown {
  if (error instanceof ProxyError || !isRagwireError(error)) return error;
  switch (error.code) {
    case 'RAGWIRE_ERR_UNKNOWN_COLLECTION':
      return new ProxyError('unknown_collection', `collection "${name}" is configured but its store does not hold it: ${error.message}`, 'ragwire.collection');
    case 'RAGWIRE_ERR_INVALID_FILTER':
    case 'RAGWIRE_ERR_UNSUPPORTED_FILTER':
      return new ProxyError('invalid_filter', `the filter was refused by the store: ${error.message}`, 'ragwire.filter');
    case 'RAGWIRE_ERR_DIM_MISMATCH':
      return new ProxyError('dimension_mismatch', `collection "${name}": ${error.message}`, 'ragwire.collection');
    default:
      return new ProxyError('retrieval_failed', `retrieval from collection "${name}" failed (${error.code}): ${error.message}`);
  }
}
