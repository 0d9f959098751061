/**
 * Deterministic synthetic vector sets for scale tests and benchmarks.
 *
 * A Gaussian mixture with overlapping clusters: centres are drawn from the
 * unit normal N(0, I), each point picks a centre uniformly and adds
 * N(0, spread^2 I). With `spread` near 1 the clusters overlap (hard enough
 * that recall depends on the search effort), unlike uniform noise (every ANN
 * looks broken) or well-separated blobs (every ANN looks perfect).
 */
import { Prng } from '@ragwire/protocol';
import type { Metric, VectorSet } from './types';

export interface GaussianMixtureOptions {
  /** Base vectors. */
  n: number;
  /** Query vectors, drawn from the same mixture independently of the base. */
  nQueries: number;
  dim: number;
  /** Number of cluster centres. Default 1000 (capped at n). */
  clusters?: number;
  /** Standard deviation of points around their centre. Default 1. */
  spread?: number;
  /** Default 42. */
  seed?: number;
  /** The metric the set is labelled with. Default 'l2'. */
  metric?: Metric;
  /** Called after each generated chunk of rows (base, then queries). */
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

const CHUNK_ROWS = 16_384;

/** Draws `rows` mixture points into `out`, in chunks, reporting progress. */
function drawMixture(
  out: Float32Array,
  rows: number,
  dim: number,
  centres: Float32Array,
  nCentres: number,
  spread: number,
  rng: Prng,
  progress: (rowsInThisPart: number) => void,
): void {
  for (let start = 0; start < rows; start += CHUNK_ROWS) {
    const end = Math.min(rows, start + CHUNK_ROWS);
    for (let i = start; i < end; i++) {
      const c = rng.nextInt(nCentres) * dim;
      const o = i * dim;
      let j = 0;
      // Marsaglia polar pairs, inlined: this loop fills hundreds of millions of floats.
      for (; j + 1 < dim; j += 2) {
        let u: number;
        let v: number;
        let s: number;
        do {
          u = rng.nextU32() / 2147483648 - 1;
          v = rng.nextU32() / 2147483648 - 1;
          s = u * u + v * v;
        } while (s >= 1 || s === 0);
        const f = spread * Math.sqrt((-2 * Math.log(s)) / s);
        out[o + j] = centres[c + j]! + u * f;
        out[o + j + 1] = centres[c + j + 1]! + v * f;
      }
      if (j < dim) out[o + j] = centres[c + j]! + spread * rng.nextNormal();
    }
    progress(end - start);
  }
}

/** A seeded Gaussian mixture; the same options always give the same vectors. */
export function gaussianMixture(options: GaussianMixtureOptions): VectorSet {
  const { n, nQueries, dim } = options;
  for (const [name, v, min] of [
    ['n', n, 1],
    ['nQueries', nQueries, 0],
    ['dim', dim, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`gaussianMixture: ${name} must be an integer >= ${min}, got ${v}`);
  }
  const clusters = Math.min(options.clusters ?? 1000, n);
  const spread = options.spread ?? 1;
  const seed = options.seed ?? 42;
  if (!Number.isInteger(clusters) || clusters < 1) throw new RangeError(`gaussianMixture: clusters must be a positive integer, got ${clusters}`);
  if (!(spread >= 0) || !Number.isFinite(spread)) throw new RangeError(`gaussianMixture: spread must be finite and >= 0, got ${spread}`);

  const centres = new Float32Array(clusters * dim);
  new Prng(seed, 0).fillNormal(centres, 0, centres.length, 1);

  const base = new Float32Array(n * dim);
  const queries = new Float32Array(nQueries * dim);
  let done = 0;
  const total = n + nQueries;
  const progress = (rows: number): void => {
    done += rows;
    options.onProgress?.(done, total);
  };
  drawMixture(base, n, dim, centres, clusters, spread, new Prng(seed, 1), progress);
  drawMixture(queries, nQueries, dim, centres, clusters, spread, new Prng(seed, 2), progress);

  return {
    name: `gmm-${n}x${dim}-c${clusters}-s${spread}-seed${seed}`,
    dim,
    metric: options.metric ?? 'l2',
    base,
    queries,
    nBase: n,
    nQueries,
  };
}
