/**
 * An exact scan's single-query time against the memory-bandwidth bound of the
 * bytes it streams. The host's read bandwidth drifts on a shared VM (it swung
 * 32-59 GB/s within one run), so the timing runs in rounds, each a pass of sync
 * and of async queries between two probes of the bandwidth in the same
 * process: a round's fraction of the bound is taken against the bandwidth
 * around it, and the reported fraction is the median of the rounds'.
 */
import { measureReadBandwidth, type Index } from '@ragwire/native';
import { quantile } from '../stats';

export interface BoundTiming {
  /** Bytes one exact query streams. */
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

/**
 * Times `flat`'s single-query search over `nq` queries in rounds (at least 5, at most 15, more
 * while under `minSeconds`), against the bound of streaming `scanBytes` once.
 */
export async function timeAgainstBound(
  flat: Index,
  query: (i: number) => Float32Array,
  nq: number,
  k: number,
  scanBytes: number,
  minSeconds: number,
): Promise<BoundTiming> {
  const boundAt = (gbs: number): number => (scanBytes / (gbs * 1e9)) * 1e6;
  const probes = [measureReadBandwidth()];
  const sync: number[] = [];
  const async: number[] = [];
  const syncRoundFractions: number[] = [];
  const asyncRoundFractions: number[] = [];
  const start = performance.now();
  while (probes.length <= MIN_ROUNDS || (probes.length <= MAX_ROUNDS && performance.now() - start < minSeconds * 1000)) {
    const s = await pass((i) => flat.searchSync(query(i), k), nq);
    const a = await pass((i) => flat.search(query(i), k), nq);
    probes.push(measureReadBandwidth());
    const bound = boundAt((probes[probes.length - 2]! + probes[probes.length - 1]!) / 2);
    syncRoundFractions.push(bound / quantile(s, 0.5));
    asyncRoundFractions.push(bound / quantile(a, 0.5));
    sync.push(...s);
    async.push(...a);
  }
  const bandwidthGBs = quantile(probes, 0.5);
  return {
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
  };
}
