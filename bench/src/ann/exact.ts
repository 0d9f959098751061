/**
 * The exact side of the benchmark: ragwire's flat index gives the ground truth
 * of synthetic sets and its single-query scan time is compared with the
 * memory-bandwidth bound (n * dim * 4 bytes / read bandwidth).
 */
import type { VectorSet } from '@ragwire/datasets';
import { createIndex, measureReadBandwidth, type Index } from '@ragwire/native';
import { quantile } from '../stats';
import { withProgress } from '../progress';
import type { Truth } from './measure';

export interface ExactResult {
  flatBuildSeconds: number;
  groundTruthSeconds: number | null;
  bandwidthGBs: number;
  /** Time to stream the base once at the measured bandwidth. */
  boundUs: number;
  syncP50us: number;
  asyncP50us: number;
  /** boundUs / p50: 1.0 means a single query scans at full memory bandwidth. */
  syncFractionOfBound: number;
  asyncFractionOfBound: number;
  batchQps: number;
}

async function latencies(run: (i: number) => unknown, nq: number, minSeconds: number): Promise<number[]> {
  const out: number[] = [];
  let elapsed = 0;
  for (let pass = 0; pass === 0 || (elapsed < minSeconds * 1000 && pass < 100); pass++) {
    for (let i = 0; i < nq; i++) {
      const t0 = performance.now();
      await run(i);
      const dt = performance.now() - t0;
      out.push(dt);
      elapsed += dt;
      if (elapsed > 5 * minSeconds * 1000) return out;
    }
  }
  return out;
}

/** Builds a flat index, takes the ground truth from it when `truth` is null, and times exact search. */
export async function runExact(set: VectorSet, k: number, truth: Truth | null, minSeconds: number): Promise<{ exact: ExactResult; truth: Truth }> {
  const { dim, nBase, nQueries } = set;
  const flat: Index = createIndex({ dim, metric: set.metric, kind: 'flat' });
  try {
    const labels = Uint32Array.from({ length: nBase }, (_, i) => i);
    const t0 = performance.now();
    await flat.add(labels, set.base);
    const flatBuildSeconds = (performance.now() - t0) / 1000;

    let groundTruthSeconds: number | null = null;
    const t1 = performance.now();
    const all = await withProgress(`exact top-${k} (ragwire flat)`, 1, () => flat.search(set.queries, k));
    const batchMs = performance.now() - t1;
    const batchQps = nQueries / (batchMs / 1000);
    if (truth === null) {
      truth = { ids: all.labels, stride: k };
      groundTruthSeconds = batchMs / 1000;
    }

    const bandwidthGBs = measureReadBandwidth();
    const boundUs = ((nBase * dim * 4) / (bandwidthGBs * 1e9)) * 1e6;
    const query = (i: number): Float32Array => set.queries.subarray(i * dim, (i + 1) * dim);
    const nTimed = Math.min(nQueries, 200);
    const sync = await latencies((i) => flat.searchSync(query(i), k), nTimed, minSeconds);
    const async = await latencies((i) => flat.search(query(i), k), nTimed, minSeconds);
    const syncP50us = quantile(sync, 0.5) * 1000;
    const asyncP50us = quantile(async, 0.5) * 1000;
    return {
      truth,
      exact: {
        flatBuildSeconds,
        groundTruthSeconds,
        bandwidthGBs,
        boundUs,
        syncP50us,
        asyncP50us,
        syncFractionOfBound: boundUs / syncP50us,
        asyncFractionOfBound: boundUs / asyncP50us,
        batchQps,
      },
    };
  } finally {
    flat.close();
  }
}
