// docs/protocol.md §5.7-§5.8: QUERY (n x dim float32 queries, and the hybrid fields of §5.7.1) and RESULT (columnar hits).
import { BadFrameError, UnknownOptionError } from './errors';
import { readHybridMeta, readSparseTail, writeSparseTail, type HybridMeta } from './codec-hybrid';
import { Fields, isPlainObject } from './fields';
import { validateFilter } from './filter';
import { MessageType } from './header';
import type { ProtocolLimits } from './limits';
import type { MessageCodec } from './message-codec';
import type { QueryOptions, QueryRequest, ResultReply } from './messages';
import { parseTraceparent, TRACEPARENT_BYTES } from './trace-context';

export const QUERY_OPTIONS = ['withPayload', 'efSearch', 'exact', 'withVectors', 'minSeq', 'epoch'];
const QUERY_BINARY = ['type', 'vectors', 'sparse'];
const RESULT_BINARY = ['type', 'counts', 'scores', 'payloads', 'vectors'];

function readQueryOptions(value: unknown, limits: ProtocolLimits): QueryOptions | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw new BadFrameError('query.options must be a map');
  for (const name of Object.keys(value)) {
    if (!QUERY_OPTIONS.includes(name)) {
      throw new UnknownOptionError(`unknown query option ${JSON.stringify(name)} (known: ${QUERY_OPTIONS.join(', ')})`);
    }
  }
  const f: Fields = new Fields(value, 'query.options');
  const out: QueryOptions = {};
  const withPayload = f.bool('withPayload', true);
  const efSearch = f.int('efSearch', 1, limits.maxEfSearch, 'maxEfSearch', true);
  const exact = f.bool('exact', true);
  const withVectors = f.bool('withVectors', true);
  const minSeq = f.int('minSeq', 0, Number.MAX_SAFE_INTEGER, undefined, true);
  const epoch = f.int('epoch', 1, Number.MAX_SAFE_INTEGER, undefined, true);
  f.done();
  if (withPayload !== undefined) out.withPayload = withPayload;
  if (efSearch !== undefined) out.efSearch = efSearch;
  if (exact !== undefined) out.exact = exact;
  if (withVectors !== undefined) out.withVectors = withVectors;
  if (minSeq !== undefined) out.minSeq = minSeq;
  if (epoch !== undefined) out.epoch = epoch;
  return out;
}

interface QueryMeta extends HybridMeta {
  collection: string;
  dim: number;
  n: number;
  k: number;
  filter?: QueryRequest['filter'];
  options?: QueryOptions;
  trace?: string;
}

/**
 * `trace` is read only where the `trace` extension is on (an encoder always may write it): elsewhere
 * it is left unread, so `done()` refuses it as an unknown field, as a peer without the extension would.
 */
function readQueryMeta(f: Fields, limits: ProtocolLimits, traceOn: boolean): QueryMeta {
  const collection = f.collection();
  const n = f.int('n', 1, limits.maxQueryBatch, 'maxQueryBatch');
  const hybrid = readHybridMeta(f, n, limits);
  // dim 0: no dense part, allowed only beside text or sparse queries (§5.7.1).
  const lexical = hybrid.text !== undefined || hybrid.sparseCounts !== undefined;
  const meta: QueryMeta = {
    collection,
    dim: f.int('dim', lexical ? 0 : 1, limits.maxDim, 'maxDim'),
    n,
    k: f.int('k', 1, limits.maxK, 'maxK'),
    ...hybrid,
  };
  const filter = f.raw('filter');
  if (filter !== undefined) meta.filter = validateFilter(filter, limits);
  const options = readQueryOptions(f.raw('options'), limits);
  if (options !== undefined) meta.options = options;
  if (traceOn) {
    const trace = f.raw('trace');
    if (trace !== undefined) {
      if (parseTraceparent(trace) === undefined) {
        f.fail('trace', `must be a W3C traceparent of version 00 (${TRACEPARENT_BYTES} bytes: 00-<32 hex>-<16 hex>-<2 hex>, lowercase, ids not all zero)`);
      }
      meta.trace = trace as string;
    }
  }
  f.done();
  return meta;
}

export const queryCodec: MessageCodec<QueryRequest> = {
  name: 'query',
  code: MessageType.QUERY,
  response: false,
  encode(msg, w, limits) {
    const { vectors, dim, sparse } = msg;
    if (!(vectors instanceof Float32Array)) throw new BadFrameError('query.vectors must be a Float32Array');
    const lexicalN = msg.text?.length ?? sparse?.length;
    const n = dim === 0 && vectors.length === 0 ? (lexicalN ?? NaN) : Number.isInteger(dim) && dim > 0 ? vectors.length / dim : NaN;
    if (!Number.isInteger(n)) {
      throw new BadFrameError(`query.vectors has ${vectors.length} floats, not a multiple of dim = ${String(dim)}`);
    }
    const extra: Record<string, unknown> = { n };
    if (sparse !== undefined) extra.sparseCounts = Array.isArray(sparse) ? sparse.map((v) => v?.indices?.length) : sparse;
    const meta = readQueryMeta(new Fields(msg, 'query', { ignore: QUERY_BINARY, extra }), limits, true);
    w.meta(meta);
    w.f32(vectors);
    if (sparse !== undefined) writeSparseTail(w, sparse, 'query.sparse');
  },
  decode(r, limits, extensions) {
    const meta = readQueryMeta(new Fields(r.meta, 'query'), limits, extensions.has('trace'));
    const msg: QueryRequest = {
      type: 'query',
      collection: meta.collection,
      dim: meta.dim,
      k: meta.k,
      vectors: r.f32(meta.n * meta.dim, 'query.vectors'),
    };
    if (meta.filter !== undefined) msg.filter = meta.filter;
    if (meta.options !== undefined) msg.options = meta.options;
    if (meta.text !== undefined) msg.text = meta.text;
    if (meta.sparseCounts !== undefined) msg.sparse = readSparseTail(r, meta.sparseCounts, 'query.sparse');
    if (meta.prefetch !== undefined) msg.prefetch = meta.prefetch;
    if (meta.fusion !== undefined) msg.fusion = meta.fusion;
    if (meta.textStats !== undefined) msg.textStats = meta.textStats;
    if (meta.trace !== undefined) msg.trace = meta.trace;
    return msg;
  },
};

interface ResultMeta {
  k: number;
  n: number;
  ids: string[];
  withPayloads: boolean;
  /** Dimension of the vectors section; absent when there is none. */
  vectorDim?: number;
  exact?: boolean;
}

function readResultMeta(f: Fields, limits: ProtocolLimits): ResultMeta {
  const k = f.int('k', 1, limits.maxK, 'maxK');
  const n = f.int('n', 1, limits.maxQueryBatch, 'maxQueryBatch');
  const raw = f.raw('ids');
  if (Array.isArray(raw) && raw.length > n * k) f.fail('ids', `has ${raw.length} entries, more than n x k = ${n * k}`);
  // Any id length the sender's limits allowed: a reply is not refused for an id the store accepted.
  const ids = f.stringList('ids', n * k, 'n x k', Number.MAX_SAFE_INTEGER, 'id');
  const meta: ResultMeta = { k, n, ids, withPayloads: f.bool('withPayloads') };
  const vectorDim = f.int('vectorDim', 1, limits.maxDim, 'maxDim', true);
  if (vectorDim !== undefined) meta.vectorDim = vectorDim;
  const exact = f.bool('exact', true);
  if (exact !== undefined) meta.exact = exact;
  f.done();
  return meta;
}

/** Sum of per-query hit counts, each checked against k. */
function totalHits(counts: Uint32Array, k: number, what: string): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > k) throw new BadFrameError(`${what}[${i}] is ${c}, more than k = ${k}`);
    total += c;
  }
  return total;
}

export const resultCodec: MessageCodec<ResultReply> = {
  name: 'result',
  code: MessageType.RESULT,
  response: true,
  encode(msg, w, limits) {
    const { counts, scores, payloads, vectors } = msg;
    if (!(counts instanceof Uint32Array)) throw new BadFrameError('result.counts must be a Uint32Array');
    if (!(scores instanceof Float32Array)) throw new BadFrameError('result.scores must be a Float32Array');
    const withPayloads = payloads !== undefined && payloads !== null;
    const extra: Record<string, unknown> = { n: counts.length, withPayloads };
    if (vectors !== undefined && vectors !== null) {
      if (!(vectors instanceof Float32Array)) throw new BadFrameError('result.vectors must be a Float32Array');
      const hits = scores.length;
      const dim = hits === 0 ? 1 : vectors.length / hits;
      if (!Number.isInteger(dim) || (hits === 0 && vectors.length !== 0)) {
        throw new BadFrameError(`result.vectors has ${vectors.length} floats, not a multiple of the ${hits} hits`);
      }
      extra.vectorDim = dim;
    }
    const meta = readResultMeta(new Fields(msg, 'result', { ignore: RESULT_BINARY, extra }), limits);
    const total = totalHits(counts, meta.k, 'result.counts');
    if (meta.ids.length !== total || scores.length !== total) {
      throw new BadFrameError(`result has ${meta.ids.length} ids and ${scores.length} scores, expected sum(counts) = ${total}`);
    }
    if (withPayloads && (!Array.isArray(payloads) || payloads.length !== total)) {
      throw new BadFrameError(`result.payloads must be an array of ${total} entries (one per hit)`);
    }
    w.meta(meta);
    w.u32(counts);
    w.f32(scores);
    if (meta.vectorDim !== undefined) w.f32(vectors!);
    if (withPayloads) w.payloads(payloads!, 'result.payloads');
  },
  decode(r, limits) {
    const meta = readResultMeta(new Fields(r.meta, 'result'), limits);
    const counts = r.u32(meta.n, 'result.counts');
    const total = totalHits(counts, meta.k, 'result.counts');
    if (meta.ids.length !== total) throw new BadFrameError(`result has ${meta.ids.length} ids, expected sum(counts) = ${total}`);
    const msg: ResultReply = { type: 'result', k: meta.k, counts, ids: meta.ids, scores: r.f32(total, 'result.scores') };
    if (meta.vectorDim !== undefined) msg.vectors = r.f32(total * meta.vectorDim, 'result.vectors');
    if (meta.withPayloads) msg.payloads = r.payloads(total, 'result.payloads');
    if (meta.exact !== undefined) msg.exact = meta.exact;
    return msg;
  },
};
