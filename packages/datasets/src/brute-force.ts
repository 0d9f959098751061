/**
 * Exact top-k in plain TypeScript (double-precision arithmetic), the reference
 * the engine is tested against, and recall@k.
 *
 * Scores follow the engine's convention, higher = more similar:
 * cosine: cosine similarity; ip: dot product; l2: minus the squared L2
 * distance; l1: minus the L1 distance. Equal scores keep the lower id first.
 */
import type { Metric } from './types';

/** Row-major results: query i's j-th hit is at i * k + j; empty slots hold 0xFFFFFFFF and -Infinity. */
export interface TopK {
  labels: Uint32Array;
  scores: Float32Array;
  k: number;
}

export const NO_ID = 0xffffffff;

function norm(v: Float32Array, off: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const x = v[off + j]!;
    s += x * x;
  }
  return Math.sqrt(s);
}

/** The score of row `ai` of `a` against row `bi` of `b` (rows of `dim` floats), in double precision. */
export function similarity(metric: Metric, a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  const ao = ai * dim;
  const bo = bi * dim;
  let s = 0;
  switch (metric) {
    case 'l2':
      for (let j = 0; j < dim; j++) {
        const d = a[ao + j]! - b[bo + j]!;
        s += d * d;
      }
      return -s;
    case 'l1':
      for (let j = 0; j < dim; j++) s += Math.abs(a[ao + j]! - b[bo + j]!);
      return -s;
    case 'ip':
      for (let j = 0; j < dim; j++) s += a[ao + j]! * b[bo + j]!;
      return s;
    case 'cosine': {
      for (let j = 0; j < dim; j++) s += a[ao + j]! * b[bo + j]!;
      const n = norm(a, ao, dim) * norm(b, bo, dim);
      return n === 0 ? 0 : s / n;
    }
  }
}

/**
 * Exact top-k of every query over every base row. `allow` (optional) restricts
 * the candidates to the base rows it accepts, as a filtered search does.
 */
export function bruteForceTopK(base: Float32Array, queries: Float32Array, dim: number, k: number, metric: Metric, allow?: (row: number) => boolean): TopK {
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`bruteForceTopK: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(k) || k <= 0) throw new RangeError(`bruteForceTopK: k must be a positive integer, got ${k}`);
  if (base.length % dim !== 0 || queries.length % dim !== 0) throw new RangeError(`bruteForceTopK: lengths are not multiples of dim ${dim}`);
  const nBase = base.length / dim;
  const nq = queries.length / dim;
  const labels = new Uint32Array(nq * k).fill(NO_ID);
  const scores = new Float32Array(nq * k).fill(-Infinity);
  const topScore = new Float64Array(k);
  const topId = new Uint32Array(k);
  const allowed = allow ? Uint8Array.from({ length: nBase }, (_, i) => (allow(i) ? 1 : 0)) : null;

  for (let q = 0; q < nq; q++) {
    let size = 0;
    for (let b = 0; b < nBase; b++) {
      if (allowed !== null && allowed[b] === 0) continue;
      const s = similarity(metric, queries, q, base, b, dim);
      if (size === k && s <= topScore[k - 1]!) continue;
      // Insertion into the sorted top list; strict '<' keeps the earlier (lower) id first on ties.
      let pos = size < k ? size : k - 1;
      while (pos > 0 && topScore[pos - 1]! < s) {
        topScore[pos] = topScore[pos - 1]!;
        topId[pos] = topId[pos - 1]!;
        pos--;
      }
      topScore[pos] = s;
      topId[pos] = b;
      if (size < k) size++;
    }
    for (let j = 0; j < size; j++) {
      labels[q * k + j] = topId[j]!;
      scores[q * k + j] = topScore[j]!;
    }
  }
  return { labels, scores, k };
}

/**
 * Recall@k: the fraction of each query's true top-k that `found` holds, averaged.
 * `found` is row-major with k per query; `truth` has `truthStride` ids per query
 * (>= k), nearest first. Empty slots (0xFFFFFFFF, or -1 in an Int32Array) never count,
 * and a query with fewer than k true ids is scored against those it has.
 */
export function recallAtK(found: Uint32Array, truth: Int32Array | Uint32Array, nq: number, k: number, truthStride: number): number {
  if (truthStride < k) throw new RangeError(`recallAtK: truth has ${truthStride} ids per query, fewer than k = ${k}`);
  if (found.length < nq * k) throw new RangeError(`recallAtK: found has ${found.length} ids, fewer than nq * k = ${nq * k}`);
  if (truth.length < nq * truthStride) throw new RangeError(`recallAtK: truth has ${truth.length} ids, fewer than nq * truthStride`);
  let hits = 0;
  let expected = 0;
  const want = new Set<number>();
  for (let q = 0; q < nq; q++) {
    want.clear();
    for (let j = 0; j < k; j++) want.add(truth[q * truthStride + j]! >>> 0);
    want.delete(NO_ID);
    expected += want.size;
    for (let j = 0; j < k; j++) {
      const id = found[q * k + j]!;
      if (id !== NO_ID && want.delete(id)) hits++;
    }
  }
  return expected === 0 ? 1 : hits / expected;
}
