// docs/protocol.md §5: each protocol request answered by a store. The one mapping of requests onto a
// store, used by the shard server (behind its auth) and by the client's embedded:// transport.
import { DimensionMismatchError, InternalError, textStatsEntries, type CollectionInfo, type Request, type Response } from '@ragwire/protocol';
import type { QueryStageListener } from './query-stages';
import type { Store } from './store';

/** The requests a store answers: all but the connection's own (HELLO, EXTENSIONS). */
export type StoreRequest = Exclude<Request, { type: 'hello' | 'extensions' }>;

export interface AnswerOptions {
  /** Which collections a server-wide DESCRIBE lists (the caller's read scope). Default: all. */
  visible?: (collection: string) => boolean;
  /**
   * Answer payloads in their stored wire form (EncodedPayload), for a server that encodes the reply
   * into a frame: no unpack and re-pack. In-process callers leave it off and get plain objects.
   */
  encodedPayloads?: boolean;
  /** Told of each stage of a query (for tracing). */
  onStage?: QueryStageListener;
}

function checkDim(info: CollectionInfo, dim: number): void {
  if (info.dim !== dim) throw new DimensionMismatchError(`collection ${info.name} has dim ${info.dim}, the request has dim ${dim}`);
}

/** Runs one request on `store` and builds its success reply; throws the store's typed errors. */
export async function answerRequest(store: Store, request: StoreRequest, options: AnswerOptions = {}): Promise<Response> {
  switch (request.type) {
    case 'query': {
      const c = store.collection(request.collection);
      // dim 0: a text or sparse query without a dense part (docs/protocol.md §5.7.1).
      if (request.dim !== 0 || request.vectors.length !== 0) checkDim(c.info(), request.dim);
      const { type: _type, collection: _collection, dim: _dim, ...query } = request;
      const r = await c.query(query, { encodedPayloads: options.encodedPayloads ?? false, ...(options.onStage ? { onStage: options.onStage } : {}) });
      const reply: Response = { type: 'result', k: r.k, counts: r.counts, ids: r.ids, scores: r.scores };
      if (r.payloads) reply.payloads = r.payloads;
      if (r.vectors) reply.vectors = r.vectors;
      if (r.exact !== undefined) reply.exact = r.exact;
      return reply;
    }
    case 'upsert': {
      const c = store.collection(request.collection);
      checkDim(c.info(), request.dim);
      const r = await c.upsert({
        ids: request.ids,
        vectors: request.vectors,
        ...(request.payloads ? { payloads: request.payloads } : {}),
        ...(request.sparse ? { sparse: request.sparse } : {}),
      });
      return { type: 'upsert_ok', upserted: r.upserted, seq: r.seq };
    }
    case 'delete': {
      const c = store.collection(request.collection);
      const r = await c.delete(request.ids !== undefined ? { ids: request.ids } : request.filter !== undefined ? { filter: request.filter } : { all: true });
      return { type: 'delete_ok', deleted: r.deleted, seq: r.seq };
    }
    case 'create': {
      const r = await store.createCollection({
        name: request.collection,
        dim: request.dim,
        metric: request.metric,
        kind: request.kind,
        storage: request.storage,
        ...(request.params ? { params: request.params } : {}),
        ...(request.text ? { text: request.text } : {}),
        ...(request.ifNotExists ? { ifNotExists: true } : {}),
      });
      return { type: 'create_ok', created: r.created, info: r.info };
    }
    case 'drop':
      return { type: 'drop_ok', ...(await store.dropCollection(request.collection, { ifExists: request.ifExists ?? false })) };
    case 'describe': {
      const all = store.describe(request.collection);
      const { visible } = options;
      return { type: 'describe_ok', collections: request.collection === undefined && visible ? all.filter((i) => visible(i.name)) : all };
    }
    case 'stats': {
      const stats = store.stats(request.collection);
      // With query texts: the BM25 statistics a client sums over shards (docs/protocol.md §5.9).
      if (request.text !== undefined && request.collection !== undefined)
        Object.assign(stats, textStatsEntries(store.collection(request.collection).textStats(request.text)));
      return { type: 'stats_ok', stats };
    }
    case 'snapshot':
      return { type: 'snapshot_ok', snapshots: await store.snapshot(request.collection) };
    default:
      throw new InternalError(`no handler for request type ${JSON.stringify((request as { type: unknown }).type)}`);
  }
}
