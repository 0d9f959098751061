// docs/protocol.md §5: each request answered by a store in this process (the embedded:// transport).
import {
  DimensionMismatchError,
  InternalError,
  PROTOCOL_VERSION,
  type CollectionInfo,
  type Filter,
  type Payload,
  type QueryOptions,
  type Request,
  type Response,
  type SnapshotInfo,
  type StatValue,
} from '@ragwire/protocol';

/** The part of @ragwire/store's `Store` the embedded transport uses (kept structural: the store is an optional peer). */
export interface EmbeddedStore {
  createCollection(options: {
    name: string; dim: number; metric: string; kind?: string; storage?: string; params?: Record<string, number>; ifNotExists?: boolean;
  }): Promise<{ created: boolean; info: CollectionInfo }>;
  dropCollection(name: string, options?: { ifExists?: boolean }): Promise<{ dropped: boolean }>;
  describe(name?: string): CollectionInfo[];
  collection(name: string): EmbeddedCollection;
  snapshot(name?: string): Promise<SnapshotInfo[]>;
  stats(name?: string): Record<string, StatValue>;
  close(): Promise<void>;
}

export interface EmbeddedCollection {
  info(): CollectionInfo;
  upsert(batch: { ids: string[]; vectors: Float32Array; payloads?: (Payload | null)[] }): Promise<{ upserted: number; seq: number }>;
  delete(what: { ids: string[] } | { filter: Filter }): Promise<{ deleted: number; seq: number }>;
  query(q: { vectors: Float32Array; k: number; filter?: Filter; options?: QueryOptions }): Promise<{
    k: number; counts: Uint32Array; ids: string[]; scores: Float32Array; payloads?: (Payload | null)[]; vectors?: Float32Array;
  }>;
}

function checkDim(info: CollectionInfo, dim: number): void {
  if (info.dim !== dim) {
    throw new DimensionMismatchError(`collection ${info.name} has dim ${info.dim}, the request has dim ${dim}`);
  }
}

/** Runs one request against `store` and builds its success reply; throws the store's typed errors. */
export async function dispatchToStore(store: EmbeddedStore, request: Request, serverName: string): Promise<Response> {
  switch (request.type) {
    case 'hello':
      return { type: 'hello_ok', version: PROTOCOL_VERSION, server: serverName };
    case 'create': {
      const { created, info } = await store.createCollection({
        name: request.collection, dim: request.dim, metric: request.metric, kind: request.kind, storage: request.storage,
        ...(request.params ? { params: request.params } : {}),
        ...(request.ifNotExists ? { ifNotExists: true } : {}),
      });
      return { type: 'create_ok', created, info };
    }
    case 'drop':
      return { type: 'drop_ok', ...(await store.dropCollection(request.collection, { ifExists: request.ifExists ?? false })) };
    case 'describe':
      return { type: 'describe_ok', collections: store.describe(request.collection) };
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
    case 'query': {
      const c = store.collection(request.collection);
      checkDim(c.info(), request.dim);
      const r = await c.query({
        vectors: request.vectors, k: request.k,
        ...(request.filter ? { filter: request.filter } : {}),
        ...(request.options ? { options: request.options } : {}),
      });
      const reply: Response = { type: 'result', k: r.k, counts: r.counts, ids: r.ids, scores: r.scores };
      if (r.payloads) reply.payloads = r.payloads;
      if (r.vectors) reply.vectors = r.vectors;
      return reply;
    }
    case 'stats':
      return { type: 'stats_ok', stats: store.stats(request.collection) };
    case 'snapshot':
      return { type: 'snapshot_ok', snapshots: await store.snapshot(request.collection) };
    default:
      throw new InternalError(`no handler for request type ${JSON.stringify((request as { type: unknown }).type)}`);
  }
}
