import { ShardedCollection, type QueryTiming, type QueryTrace } from '@ragwire/client';
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

/** One open handle on a collection (one per shard token in use), opened on first use. */
interface OpenHandle {
  handle: ShardedCollection;
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
 * servers, or an embedded store in this process). A tenant with a shard token
 * of its own for a collection (`shardTokens` in its keys entry) reaches the
 * shards with it, on a handle of its own, so the shard servers' token scopes
 * hold for it too; others use the collection's `token`. Store failures become
 * the proxy's typed errors: an unknown collection or a dimension mismatch is
 * the request's fault (400), a token the shards refuse is 403
 * `collection_forbidden`, shards that do not answer are `retrieval_failed`.
 */
export class CollectionRetriever {
  private readonly handles = new Map<string, OpenHandle>();

  /** `traced`: ask shard servers for the trace extension, so a query's per-shard trace context reaches them. */
  constructor(
    private readonly config: Readonly<RagConfig>,
    private readonly traced = false,
  ) {}

  /** The configured collection `name`. */
  collection(name: string): RagCollectionConfig {
    const c = this.config.collections[name];
    if (!c) throw new ProxyError('unknown_collection', `unknown collection "${name}"`, 'ragwire.collection');
    return c;
  }

  /** The top `k` sources for `vector` in collection `name`, best first, and the query's timing when it was alone in flight. */
  async search(
    name: string,
    vector: Float32Array,
    k: number,
    filter: Filter | undefined,
    shardToken?: string,
    trace?: QueryTrace,
  ): Promise<{ sources: RagSource[]; timing: SearchTiming | undefined }> {
    const config = this.collection(name);
    const open = this.open(name, config, shardToken ?? config.token);
    try {
      open.dim ??= open.handle.describe().then((info) => info.dim);
      const dim = await open.dim.catch((error: unknown) => {
        open.dim = undefined; // ask again next time: the shard may come back, the collection may be created
        throw error;
      });
      if (dim !== vector.length) {
        throw new ProxyError(
          'dimension_mismatch',
          `collection "${name}" holds ${dim}-dimensional vectors but ${config.embeddingModel} returned ${vector.length} dimensions: the collection was embedded with another model`,
          'ragwire.collection',
        );
      }
      open.inflight++;
      open.last = undefined;
      let result;
      try {
        result = await open.handle.query({ vectors: vector, k, ...(filter ? { filter } : {}), options: { withPayload: true }, ...(trace ? { trace } : {}) });
      } finally {
        open.inflight--;
      }
      const last = open.last as OpenHandle['last']; // set by onQuery during the await
      open.last = undefined;
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
    await Promise.all([...this.handles.values()].map((h) => h.handle.close()));
  }

  private open(name: string, c: RagCollectionConfig, token: string | undefined): OpenHandle {
    const key = `${name}\u0000${token ?? ''}`;
    let open = this.handles.get(key);
    if (open) return open;
    const shards = c.path !== undefined ? [[c.path.startsWith('embedded://') ? c.path : `embedded://${encodeURI(c.path)}`]] : c.shards!;
    const handle = new ShardedCollection({
      shards,
      collection: c.collection ?? name,
      timeoutMs: this.config.timeoutMs,
      ...(token !== undefined ? { token } : {}),
      ...(this.traced ? { client: { extensions: ['trace'] } } : {}),
      // Called inside query(), just before it returns: attributable only while one query is in flight.
      onQuery: (timing) => (open!.last = open!.inflight === 1 ? { timing, at: performance.now() } : undefined),
    });
    open = { handle, dim: undefined, inflight: 0, last: undefined };
    this.handles.set(key, open);
    return open;
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
    case 'RAGWIRE_ERR_UNAUTHORIZED':
    case 'RAGWIRE_ERR_FORBIDDEN':
      return new ProxyError(
        'collection_forbidden',
        `the shard servers of collection "${name}" refused the token used for this key: ${error.message}`,
        'ragwire.collection',
      );
    case 'RAGWIRE_ERR_DIM_MISMATCH':
      return new ProxyError('dimension_mismatch', `collection "${name}": ${error.message}`, 'ragwire.collection');
    default:
      return new ProxyError('retrieval_failed', `retrieval from collection "${name}" failed (${error.code}): ${error.message}`);
  }
}
