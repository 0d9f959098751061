/**
 * The data sets the ANN benchmark runs on: the two real sets from
 * ../shared/data and seeded synthetic Gaussian mixtures (`synth-<n>-<dim>`,
 * n with an optional k or m suffix, times --scale).
 */
import { gaussianMixture, loadBgeM3Sentence, loadBigann10k, type Dataset, type VectorSet } from '@ragwire/datasets';
import { startProgress } from '../progress';

export interface BenchData {
  set: VectorSet;
  /** Ground truth from the data set's own file, when it has one. */
  truth: Dataset | null;
  description: string;
}

/** Synthetic mixture shape, as the reference numbers used it. */
export const SYNTH_CLUSTERS = 1000;
export const SYNTH_SPREAD = 1;
export const SYNTH_SEED = 42;

function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text);
  if (!m) throw new Error(`bad count "${text}" (expected e.g. 100k, 1m, 5000)`);
  const mult = { '': 1, k: 1e3, m: 1e6 }[m[2]!.toLowerCase() as '' | 'k' | 'm'];
  return Math.round(Number(m[1]) * mult);
}

export function describeSpec(spec: string, scale: number): string {
  const m = /^synth-([^-]+)-(\d+)$/.exec(spec);
  if (!m) return spec;
  return `synth ${Math.max(1000, Math.round(parseCount(m[1]!) * scale))} x ${m[2]}`;
}

/** Loads or generates one data set; null when a real set's files are absent. */
export function loadData(spec: string, scale: number, nQueries: number): BenchData | null {
  if (spec === 'bigann10k') {
    const d = loadBigann10k();
    return d && { set: d, truth: d, description: 'bigann10k: 10,000 real SIFT descriptors (128-d, L2), 100 queries, ground truth from its file' };
  }
  if (spec === 'bge-m3') {
    const d = loadBgeM3Sentence();
    return (
      d && {
        set: d,
        truth: d,
        description: 'bge-m3 sentence: 400 real bge-m3 text embeddings (1024-d, cosine), 100 queries, ground truth from its file',
      }
    );
  }
  const m = /^synth-([^-]+)-(\d+)$/.exec(spec);
  if (!m) throw new Error(`unknown data set "${spec}" (known: bigann10k, bge-m3, synth-<n>-<dim>)`);
  const n = Math.max(1000, Math.round(parseCount(m[1]!) * scale));
  const dim = Number(m[2]);
  const progress = startProgress(`generating ${n} x ${dim}`, n + nQueries);
  const set = gaussianMixture({
    n,
    nQueries,
    dim,
    clusters: SYNTH_CLUSTERS,
    spread: SYNTH_SPREAD,
    seed: SYNTH_SEED,
    onProgress: (done) => progress.update(done),
  });
  progress.stop();
  return {
    set: { ...set, name: `synth-${n}x${dim}` },
    truth: null,
    description:
      `synthetic: ${n} x ${dim} seeded Gaussian mixture (${SYNTH_CLUSTERS} clusters, unit-normal centres, spread ${SYNTH_SPREAD}, ` +
      `seed ${SYNTH_SEED}), ${nQueries} queries drawn apart from the base, L2; ground truth from ragwire's flat index (exact)`,
  };
}
