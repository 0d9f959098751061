/**
 * Exact (flat) scans on each storage against the memory-bandwidth bound of the
 * bytes that storage scans (n * dim * bytes per element): f32 reads 4 bytes an
 * element, f16 2 and sq8 1 (plus a rerank of k * rerankFactor f32 rows), timed
 * in rounds between bandwidth probes (bound.ts).
 */
import { recallAtK, type VectorSet } from '@ragwire/datasets';
import { createIndex, type IndexOptions } from '@ragwire/native';
import { timeAgainstBound, type BoundTiming } from './bound';
import type { Truth } from './measure';

type FlatStorage = NonNullable<IndexOptions['storage']>;

const BYTES: Record<FlatStorage, number> = { f32: 4, f16: 2, sq8: 1 };

export interface FlatScan extends BoundTiming {
  storage: FlatStorage;
  recall: number;
}

export async function runFlatScans(set: VectorSet, k: number, truth: Truth, storages: FlatStorage[], minSeconds: number): Promise<FlatScan[]> {
  const { dim, nBase } = set;
  const nTimed = Math.min(set.nQueries, 200);
  const query = (i: number): Float32Array => set.queries.subarray(i * dim, (i + 1) * dim);
  const scans: FlatScan[] = [];
  for (const storage of storages) {
    const flat = createIndex({ dim, metric: set.metric, kind: 'flat', storage });
    try {
      await flat.add(
        Uint32Array.from({ length: nBase }, (_, i) => i),
        set.base,
      );
      const answers = new Uint32Array(nTimed * k);
      for (let i = 0; i < nTimed; i++) answers.set(flat.searchSync(query(i), k).labels, i * k);
      const recall = recallAtK(answers, truth.ids, nTimed, k, truth.stride);
      const timing = await timeAgainstBound(flat, query, nTimed, k, nBase * dim * BYTES[storage], minSeconds);
      scans.push({ storage, ...timing, recall });
    } finally {
      flat.close();
    }
  }
  return scans;
}

export function parseFlatStorages(list: string): FlatStorage[] {
  const out = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of out) if (!(s in BYTES)) throw new Error(`--flat-storages: unknown storage "${s}" (known: f32, f16, sq8)`);
  return out as FlatStorage[];
}
