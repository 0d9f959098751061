/**
 * The exact side of the benchmark: ragwire's flat index gives the ground truth
 * of synthetic sets, and its single-query scan time is compared with the
 * memory-bandwidth bound of streaming n * dim * 4 bytes (bound.ts).
 */
import type { VectorSet } from '@ragwire/datasets';
import { createIndex, type Index } from '@ragwire/native';
import { withProgress } from '../progress';
import { timeAgainstBound, type BoundTiming } from './bound';
import type { Truth } from './measure';

export interface ExactResult extends BoundTiming {
  flatBuildSeconds: number;
  groundTruthSeconds: number | null;
  batchQps: number;
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

    const query = (i: number): Float32Array => set.queries.subarray(i * dim, (i + 1) * dim);
    const timing = await timeAgainstBound(flat, query, Math.min(nQueries, 200), k, nBase * dim * 4, minSeconds);
    return { truth, exact: { flatBuildSeconds, groundTruthSeconds, batchQps, ...timing } };
  } finally {
    flat.close();
  }
}
