// docs/protocol.md §5: each request answered by the store. No storage logic here: validation of
// what the store owns (dims, ids, filters) happens in the store.
import {
  DimensionMismatchError,
  InternalError,
  PROTOCOL_VERSION,
  type CollectionInfo,
  type ProtocolLimits,
  type Request,
  type Response,
} from '@ragwire/protocol';
import type { Store } from '@ragwire/store';
import { REQUIRED_SCOPE, type Principal } from './auth';

function checkDim(info: CollectionInfo, dim: number): void {
  if (info.dim !== dim) throw new DimensionMismatchError(`collection ${info.name} has dim ${info.dim}, the request has dim ${dim}`);
}

/**
 * Checks `principal`'s scope for `request`, runs it on `store` and builds the success reply.
 * Throws the typed error the ERROR reply carries. HELLO is handled by the connection.
 */
export async function dispatch(store: Store, principal: Principal, request: Exclude<Request, { type: 'hello' }>): Promise<Response> {
  const collection = 'collection' in request ? request.collection : undefined;
  // DESCRIBE of the whole server lists what the token may read instead of refusing.
  if (!(request.type === 'describe' && collection === undefined)) principal.check(REQUIRED_SCOPE[request.type], collection);
  switch (request.type) {
    case 'query': {
      const c = store.collection(request.collection);
      checkDim(c.info(), request.dim);
      const r = await c.query({
        vectors: request.vectors,
        k: request.k,
        ...(request.filter ? { filter: request.filter } : {}),
        ...(request.options ? { options: request.options } : {}),
      });
      const reply: Response = { type: 'result', k: r.k, counts: r.counts, ids: r.ids, scores: r.scores };
      if (r.payloads) reply.payloads = r.payloads;
      if (r.vectors) reply.vectors = r.vectors;
      return reply;
    }
    case 'upsert': {
      const c = store.collection(request.collection);
      checkDim(c.info(), request.dim);
      const r = await c.upsert({ ids: request.ids, vectors: request.vectors, ...(request.payloads ? { payloads: request.payloads } : {}) });
      return { type: 'upsert_ok', upserted: r.upserted, seq: r.seq };
    }
    case 'delete': {
      const c = store.collection(request.collection);
      const r = await c.delete(request.ids !== undefined ? { ids: request.ids } : { filter: request.filter! });
      return { type: 'delete_ok', deleted: r.deleted, seq: r.seq };
    }
    case 'create': {
      const r = await store.createCollection({
        name: request.collection, dim: request.dim, metric: request.metric, kind: request.kind, storage: request.storage,
        ...(request.params ? { params: request.params } : {}),
        ...(request.ifNotExists ? { ifNotExists: true } : {}),
      });
      return { type: 'create_ok', created: r.created, info: r.info };
    }
    case 'drop':
      return { type: 'drop_ok', ...(await store.dropCollection(request.collection, { ifExists: request.ifExists ?? false })) };
    case 'describe': {
      const all = store.describe(collection);
      return { type: 'describe_ok', collections: collection === undefined ? all.filter((i) => principal.may('read', i.name)) : all };
    }
    case 'stats':
      return { type: 'stats_ok', stats: store.stats(collection) };
    case 'snapshot':
      return { type: 'snapshot_ok', snapshots: await store.snapshot(collection) };
    default:
      throw new InternalError(`no handler for request type ${JSON.stringify((request as { type: unknown }).type)}`);
  }
}

/** hello_ok.limits: what a client needs to split its batches (docs/protocol.md §5.1). */
export function advertisedLimits(limits: ProtocolLimits): Partial<ProtocolLimits> {
  const { maxFrameBytes, maxK, maxQueryBatch, maxWriteBatch, maxDim, maxPayloadBytes, maxIdBytes } = limits;
  return { maxFrameBytes, maxK, maxQueryBatch, maxWriteBatch, maxDim, maxPayloadBytes, maxIdBytes };
}

export { PROTOCOL_VERSION };
