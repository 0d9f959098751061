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

// Flat scans every row through the picked kernels on each storage; hnsw walks on each storage's
// codes too (sq8 on the integer query for l2, ip and cosine, f16 converted in registers).
export const ISA_CASES: IsaCase[] = (['l2', 'ip', 'cosine', 'l1'] as const).flatMap((metric) =>
  (['flat', 'hnsw'] as const).flatMap((kind) =>
    (['f32', 'f16', 'sq8'] as const).map((storage) => ({ name: `${kind}/${metric}/${storage}`, kind, metric, storage, k: 10 })),
  ),
);
