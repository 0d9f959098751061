/**
 * Exact (flat) scans on each storage against the memory-bandwidth bound of the
 * bytes that storage scans (n * dim * bytes per element): f32 reads 4 bytes an
 * element, f16 2 and sq8 1 (plus a rerank of k * rerankFactor f32 rows). The
 * host's read bandwidth drifts on a shared VM (it swung 32-59 GB/s within one
 * run), so the timing runs in rounds, each a pass of sync and of async queries
 * between two probes of the bandwidth in the same process: a round's fraction
 * of the bound is taken against the bandwidth around it, and the reported
 * fraction is the median of the rounds'.
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
  /** Median of the probes. */
  bandwidthGBs: number;
  /** Lowest and highest probe. */
  bandwidthRangeGBs: [number, number];
  /** Every probe, in order: round i ran between probes i and i + 1. */
  probesGBs: number[];
  /** The bound at the median bandwidth. */
  boundUs: number;
  /** Medians over every round's queries. */
  syncP50us: number;
  asyncP50us: number;
  /** boundUs / p50 (1.0: a single query scans at full memory bandwidth): the median of the rounds'. */
  syncFractionOfBound: number;
  asyncFractionOfBound: number;
  /** Each round's fraction, against the mean of the two probes around it. */
  syncRoundFractions: number[];
  asyncRoundFractions: number[];
  recall: number;
}

/** Rounds of probe, sync pass, async pass, the last probe closing them. */
const MIN_ROUNDS = 5;
const MAX_ROUNDS = 15;

async function pass(run: (i: number) => unknown, nq: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < nq; i++) {
    const t0 = performance.now();
    await run(i);
    out.push((performance.now() - t0) * 1000);
  }
  return out;
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
      const boundAt = (gbs: number): number => (scanBytes / (gbs * 1e9)) * 1e6;
      const probes = [measureReadBandwidth()];
      const sync: number[] = [];
      const async: number[] = [];
      const syncRoundFractions: number[] = [];
      const asyncRoundFractions: number[] = [];
      const start = performance.now();
      while (probes.length <= MIN_ROUNDS || (probes.length <= MAX_ROUNDS && performance.now() - start < minSeconds * 1000)) {
        const s = await pass((i) => flat.searchSync(query(i), k), nTimed);
        const a = await pass((i) => flat.search(query(i), k), nTimed);
        probes.push(measureReadBandwidth());
        const bound = boundAt((probes[probes.length - 2]! + probes[probes.length - 1]!) / 2);
        syncRoundFractions.push(bound / quantile(s, 0.5));
        asyncRoundFractions.push(bound / quantile(a, 0.5));
        sync.push(...s);
        async.push(...a);
      }
      const bandwidthGBs = quantile(probes, 0.5);
      scans.push({
        storage,
        scanBytes,
        bandwidthGBs,
        bandwidthRangeGBs: [Math.min(...probes), Math.max(...probes)],
        probesGBs: probes,
        boundUs: boundAt(bandwidthGBs),
        syncP50us: quantile(sync, 0.5),
        asyncP50us: quantile(async, 0.5),
        syncFractionOfBound: quantile(syncRoundFractions, 0.5),
        asyncFractionOfBound: quantile(asyncRoundFractions, 0.5),
        syncRoundFractions,
        asyncRoundFractions,
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
