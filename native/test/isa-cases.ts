/** The searches isa-searches.ts runs under each RAGWIRE_ISA level, and their data. */
import { gaussianMixture, type VectorSet } from '@ragwire/datasets';
import type { IndexKind, Metric, Storage } from '@ragwire/protocol';

export interface IsaCase {
  name: string;
  kind: IndexKind;
  metric: Metric;
  storage: Storage;
  k: number;
}

// dim 37: a tail after every SIMD width (16, 8, 4).
export function isaDataset(): VectorSet {
  return gaussianMixture({ n: 1000, nQueries: 30, dim: 37, clusters: 15, seed: 7 });
}

// Flat scans every row through the picked kernels on each storage; hnsw walks on them (f32, and f16 on l2).
export const ISA_CASES: IsaCase[] = (['l2', 'ip', 'cosine', 'l1'] as const).flatMap((metric) => [
  ...(['f32', 'f16', 'sq8'] as const).map((storage) => ({ name: `flat/${metric}/${storage}`, kind: 'flat' as const, metric, storage, k: 10 })),
  { name: `hnsw/${metric}/f32`, kind: 'hnsw' as const, metric, storage: 'f32' as const, k: 10 },
  ...(metric === 'l2' ? [{ name: 'hnsw/l2/f16', kind: 'hnsw' as const, metric, storage: 'f16' as const, k: 10 }] : []),
]);
