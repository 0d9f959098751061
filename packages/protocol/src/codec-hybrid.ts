// docs/protocol.md §5.7.1 and §5.5: the hybrid fields of QUERY (text, sparse, prefetch, fusion,
// textStats) and the sparse section UPSERT and QUERY share. Every field is optional: a frame
// without them decodes as before they existed.
import type { BodyReader, BodyWriter } from './body';
import { BadFrameError, LimitExceededError } from './errors';
import { Fields, isPlainObject, utf8Length } from './fields';
import type { ProtocolLimits } from './limits';
import { FUSION_METHODS, type Fusion, type SparseVector, type TextStats } from './search';

export interface HybridMeta {
  text?: string[];
  /** Nonzero entries of each query's (or document's) sparse vector; their sections follow the vectors. */
  sparseCounts?: number[];
  prefetch?: number;
  fusion?: Fusion;
  textStats?: TextStats;
}

/** The hybrid fields of a QUERY meta, each checked; `n` is the frame's query count. */
export function readHybridMeta(f: Fields, n: number, limits: ProtocolLimits): HybridMeta {
  const out: HybridMeta = {};
  const text = f.raw('text');
  if (text !== undefined) {
    if (!Array.isArray(text) || text.length !== n) f.fail('text', `must be an array of n = ${n} strings`);
    text.forEach((t, i) => {
      if (typeof t !== 'string') f.fail(`text[${i}]`, 'must be a string');
      if (utf8Length(t, limits.maxQueryTextBytes) > limits.maxQueryTextBytes) {
        throw new LimitExceededError(`query.text[${i}] is over the limit maxQueryTextBytes = ${limits.maxQueryTextBytes}`);
      }
    });
    out.text = text as string[];
  }
  const counts = readSparseCounts(f, n, limits, 'query');
  if (counts !== undefined) out.sparseCounts = counts;
  const prefetch = f.int('prefetch', 1, limits.maxK, 'maxK', true);
  if (prefetch !== undefined) out.prefetch = prefetch;
  const fusion = f.raw('fusion');
  if (fusion !== undefined) out.fusion = readFusion(fusion);
  const stats = f.raw('textStats');
  if (stats !== undefined) out.textStats = readTextStats(stats);
  return out;
}

/** `sparseCounts`: n entries, each 0 .. maxSparseEntries. */
export function readSparseCounts(f: Fields, n: number, limits: ProtocolLimits, what: string): number[] | undefined {
  const counts = f.raw('sparseCounts');
  if (counts === undefined) return undefined;
  if (!Array.isArray(counts) || counts.length !== n) f.fail('sparseCounts', `must be an array of n = ${n} counts`);
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) f.fail(`sparseCounts[${i}]`, 'must be a non-negative integer');
    if (c > limits.maxSparseEntries)
      throw new LimitExceededError(`${what}.sparseCounts[${i}] is ${c}, over the limit maxSparseEntries = ${limits.maxSparseEntries}`);
  }
  return counts as number[];
}

function readFusion(value: unknown): Fusion {
  const f: Fields = new Fields(value, 'query.fusion');
  const out: Fusion = { method: f.oneOf('method', FUSION_METHODS) };
  for (const name of ['k', 'alpha'] as const) {
    const v = f.raw(name);
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (name === 'alpha' && v > 1)) {
      f.fail(name, name === 'alpha' ? 'must be a number in 0..1' : 'must be a finite number >= 0');
    }
    out[name] = v;
  }
  f.done();
  return out;
}

function readTextStats(value: unknown): TextStats {
  const f: Fields = new Fields(value, 'query.textStats');
  const out: TextStats = { docs: f.count('docs'), tokens: f.count('tokens'), df: {} };
  const df = f.raw('df');
  if (!isPlainObject(df)) f.fail('df', 'must be a map of terms to document counts');
  for (const [term, v] of Object.entries(df)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) f.fail(`df.${term}`, 'must be a non-negative integer');
  }
  out.df = df as Record<string, number>;
  f.done();
  return out;
}

/** The sparse sections: u32[sum(counts)] indices, then f32[sum(counts)] values. Null entries count 0. */
export function writeSparseTail(w: BodyWriter, list: readonly (SparseVector | null)[], what: string): void {
  let total = 0;
  list.forEach((v, i) => {
    if (v === null) return;
    if (!(v?.indices instanceof Uint32Array) || !(v.values instanceof Float32Array) || v.indices.length !== v.values.length) {
      throw new BadFrameError(`${what}[${i}] must hold indices (Uint32Array) and values (Float32Array) of one length`);
    }
    total += v.indices.length;
  });
  const indices = new Uint32Array(total);
  const values = new Float32Array(total);
  let at = 0;
  for (const v of list) {
    if (v === null) continue;
    indices.set(v.indices, at);
    values.set(v.values, at);
    at += v.indices.length;
  }
  w.u32(indices);
  w.f32(values);
}

/** Reads the sparse sections back as views on the frame; `nullable`: an entry of count 0 is null. */
export function readSparseTail(r: BodyReader, counts: readonly number[], what: string): SparseVector[];
export function readSparseTail(r: BodyReader, counts: readonly number[], what: string, nullable: true): (SparseVector | null)[];
export function readSparseTail(r: BodyReader, counts: readonly number[], what: string, nullable = false): (SparseVector | null)[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const indices = r.u32(total, `${what}.indices`);
  const values = r.f32(total, `${what}.values`);
  const out: (SparseVector | null)[] = [];
  let at = 0;
  for (const c of counts) {
    out.push(nullable && c === 0 ? null : { indices: indices.subarray(at, at + c), values: values.subarray(at, at + c) });
    at += c;
  }
  return out;
}
