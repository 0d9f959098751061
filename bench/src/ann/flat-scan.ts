/**
 * Exact (flat) scans on each storage against the memory-bandwidth bound of the
 * bytes that storage scans (n * dim * bytes per element): f32 reads 4 bytes an
 * element, f16 2 and sq8 1 (plus a rerank of k * rerankFactor f32 rows). The read
 * bandwidth is measured just before each storage's timing, in the same process.
 */
import { recallAtK, type VectorSet } from '@ragwire/datasets';
import { createIndex, measureReadBandwidth, type IndexOptions } from '@ragwire/native';
import { quantile } from '../stats';
import type { Truth } from './measure';

type FlatStorage = NonNullable<IndexOptions['storage']>;

const BYTES: Record<FlatStorage, number> = { f32: 4, f16: 2, sq8: 1 };

export interface FlatScan {
  storage: FlatStorage;
  /** Bytes one exact query streams: n * dim * bytes per element. */
  scanBytes: number;
  bandwidthGBs: number;
  boundUs: number;
  syncP50us: number;
  asyncP50us: number;
  /** boundUs / p50: 1.0 means a single query scans at full memory bandwidth. */
  syncFractionOfBound: number;
  asyncFractionOfBound: number;
  recall: number;
}

async function p50us(run: (i: number) => unknown, nq: number, minSeconds: number): Promise<number> {
  const out: number[] = [];
  const start = performance.now();
  for (let pass = 0; pass === 0 || (performance.now() - start < minSeconds * 1000 && pass < 100); pass++) {
    for (let i = 0; i < nq; i++) {
      const t0 = performance.now();
      await run(i);
      out.push(performance.now() - t0);
    }
  }
  return quantile(out, 0.5) * 1000;
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
      const scanBytes = nBase * dim * BYTES[storage];
      const bandwidthGBs = measureReadBandwidth();
      const boundUs = (scanBytes / (bandwidthGBs * 1e9)) * 1e6;
      const syncP50us = await p50us((i) => flat.searchSync(query(i), k), nTimed, minSeconds);
      const asyncP50us = await p50us((i) => flat.search(query(i), k), nTimed, minSeconds);
      scans.push({
        storage,
        scanBytes,
        bandwidthGBs,
        boundUs,
        syncP50us,
        asyncP50us,
        syncFractionOfBound: boundUs / syncP50us,
        asyncFractionOfBound: boundUs / asyncP50us,
        recall,
      });
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
