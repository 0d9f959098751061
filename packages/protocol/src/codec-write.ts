// docs/protocol.md §5.5-§5.6: UPSERT (ids + float32 vectors + payload section), DELETE, replies.
import { readSparseCounts, readSparseTail, writeSparseTail } from './codec-hybrid';
import { BadFrameError } from './errors';
import { Fields, type FieldsSource } from './fields';
import { validateFilter } from './filter';
import { MessageType } from './header';
import type { ProtocolLimits } from './limits';
import { OUTGOING, type MessageCodec } from './message-codec';
import type { DeleteReply, DeleteRequest, UpsertReply, UpsertRequest } from './messages';

const UPSERT_BINARY = ['type', 'vectors', 'payloads', 'sparse'];

interface UpsertMeta {
  collection: string;
  dim: number;
  ids: string[];
  withPayloads: boolean;
  /** Present when sparse vectors follow the vectors (§5.5). */
  sparseCounts?: number[];
}

function readUpsertMeta(f: Fields, limits: ProtocolLimits): UpsertMeta {
  const meta: UpsertMeta = {
    collection: f.collection(),
    dim: f.int('dim', 1, limits.maxDim, 'maxDim'),
    ids: f.stringList('ids', limits.maxWriteBatch, 'maxWriteBatch', limits.maxIdBytes, 'id'),
    withPayloads: f.bool('withPayloads'),
  };
  const sparseCounts = readSparseCounts(f, meta.ids.length, limits, 'upsert');
  if (sparseCounts !== undefined) meta.sparseCounts = sparseCounts;
  return meta;
}

export const upsertCodec: MessageCodec<UpsertRequest> = {
  name: 'upsert',
  code: MessageType.UPSERT,
  response: false,
  encode(msg, w, limits) {
    const { vectors, payloads, sparse } = msg;
    const withPayloads = payloads !== undefined && payloads !== null;
    const extra: Record<string, unknown> = { withPayloads };
    if (sparse !== undefined && sparse !== null) extra.sparseCounts = Array.isArray(sparse) ? sparse.map((v) => (v === null ? 0 : v?.indices?.length)) : sparse;
    const f: Fields = new Fields(msg, 'upsert', { ignore: UPSERT_BINARY, extra });
    const meta = readUpsertMeta(f, limits);
    f.done();
    const n = meta.ids.length;
    if (!(vectors instanceof Float32Array)) throw new BadFrameError('upsert.vectors must be a Float32Array');
    if (vectors.length !== n * meta.dim) {
      throw new BadFrameError(`upsert.vectors has ${vectors.length} floats, expected ids.length x dim = ${n} x ${meta.dim}`);
    }
    if (meta.withPayloads && (!Array.isArray(payloads) || payloads.length !== n)) {
      throw new BadFrameError(`upsert.payloads must be an array of ${n} entries (one per id)`);
    }
    w.meta(meta);
    w.f32(vectors);
    if (meta.sparseCounts !== undefined) writeSparseTail(w, sparse!, 'upsert.sparse');
    if (meta.withPayloads) w.payloads(payloads!, 'upsert.payloads');
  },
  decode(r, limits) {
    const f: Fields = new Fields(r.meta, 'upsert');
    const meta = readUpsertMeta(f, limits);
    f.done();
    const n = meta.ids.length;
    const msg: UpsertRequest = {
      type: 'upsert',
      collection: meta.collection,
      dim: meta.dim,
      ids: meta.ids,
      vectors: r.f32(n * meta.dim, 'upsert.vectors'),
    };
    if (meta.sparseCounts !== undefined) msg.sparse = readSparseTail(r, meta.sparseCounts, 'upsert.sparse', true);
    if (meta.withPayloads) msg.payloads = r.payloads(n, 'upsert.payloads');
    return msg;
  },
};

function readWriteReply<T extends 'upserted' | 'deleted'>(
  value: unknown,
  what: string,
  countName: T,
  source?: FieldsSource,
): Record<T, number> & { seq: number } {
  const f: Fields = new Fields(value, what, source);
  const out = { [countName]: f.count(countName), seq: f.count('seq') } as Record<T, number> & { seq: number };
  f.done();
  return out;
}

export const upsertReplyCodec: MessageCodec<UpsertReply> = {
  name: 'upsert_ok',
  code: MessageType.UPSERT,
  response: true,
  encode: (msg, w) => w.meta(readWriteReply(msg, 'upsert_ok', 'upserted', OUTGOING)),
  decode: (r) => ({ type: 'upsert_ok', ...readWriteReply(r.meta, 'upsert_ok', 'upserted') }),
};

function readDelete(value: unknown, limits: ProtocolLimits, source?: FieldsSource): Omit<DeleteRequest, 'type'> {
  const f: Fields = new Fields(value, 'delete', source);
  const collection = f.collection();
  const given = ['ids', 'filter', 'all'].filter((name) => f.has(name));
  if (given.length !== 1) f.fail('ids', 'delete.filter and delete.all: exactly one must be given');
  const out: Omit<DeleteRequest, 'type'> = { collection };
  if (given[0] === 'ids') out.ids = f.stringList('ids', limits.maxWriteBatch, 'maxWriteBatch', limits.maxIdBytes, 'id');
  else if (given[0] === 'filter') out.filter = validateFilter(f.raw('filter'), limits);
  else if (f.bool('all')) out.all = true;
  else f.fail('all', 'must be true when given');
  for (const name of ['ids', 'filter', 'all']) if (name !== given[0]) f.raw(name);
  f.done();
  return out;
}

export const deleteCodec: MessageCodec<DeleteRequest> = {
  name: 'delete',
  code: MessageType.DELETE,
  response: false,
  encode: (msg, w, limits) => w.meta(readDelete(msg, limits, OUTGOING)),
  decode: (r, limits) => ({ type: 'delete', ...readDelete(r.meta, limits) }),
};

export const deleteReplyCodec: MessageCodec<DeleteReply> = {
  name: 'delete_ok',
  code: MessageType.DELETE,
  response: true,
  encode: (msg, w) => w.meta(readWriteReply(msg, 'delete_ok', 'deleted', OUTGOING)),
  decode: (r) => ({ type: 'delete_ok', ...readWriteReply(r.meta, 'delete_ok', 'deleted') }),
};
