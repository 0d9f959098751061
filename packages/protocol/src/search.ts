// docs/search.md: the types of lexical, sparse and hybrid search, and the one fusion of ranked lists.
// Pure and shared: a store fuses its own branch lists with `fuseRanked`, and a client that merged the
// same branches from N shards fuses them with the same function, so both answer alike.
import { InvalidArgumentError } from './errors';

/** How a collection tokenizes text for BM25 (docs/search.md §1). Recorded with the collection. */
export interface TextSettings {
  /** 'en': NFKC, lower case, Unicode words, English stop words dropped, Porter stems. 'none': the same without stop words and stems. */
  language: TextLanguage;
  /** BM25 term-frequency saturation. */
  k1: number;
  /** BM25 length normalisation, 0..1. */
  b: number;
  /** Metadata string fields indexed beside the payload text (dotted paths). */
  fields?: string[];
}

export type TextLanguage = 'en' | 'none';
export const TEXT_LANGUAGES: readonly TextLanguage[] = ['en', 'none'];

/** Anserini's BM25 defaults (k1 0.9, b 0.4), language-neutral tokens. */
export const DEFAULT_TEXT_SETTINGS: Readonly<TextSettings> = Object.freeze({ language: 'none', k1: 0.9, b: 0.4 });

/** A sparse vector: `indices` strictly increasing, `values` finite, same length. */
export interface SparseVector {
  indices: Uint32Array;
  values: Float32Array;
}

export type FusionMethod = 'rrf' | 'dbsf' | 'weighted';
export const FUSION_METHODS: readonly FusionMethod[] = ['rrf', 'dbsf', 'weighted'];

/**
 * How a hybrid query fuses its branches (dense, text, sparse):
 * - rrf: sum over branches of 1 / (k + rank), rank from 1 (k default 60);
 * - dbsf: each branch's scores mapped by (s - (mean - 3 sd)) / (6 sd), clipped to 0..1, then summed;
 * - weighted: each branch's scores min-max normalised to 0..1; dense weighs `alpha`, the lexical
 *   branches (text, sparse) share 1 - alpha (alpha default 0.5).
 */
export interface Fusion {
  method: FusionMethod;
  k?: number;
  alpha?: number;
}

export const DEFAULT_RRF_K = 60;
export const DEFAULT_ALPHA = 0.5;
/** Each branch of a hybrid query fetches max(k, prefetch) candidates; default prefetch. */
export const DEFAULT_PREFETCH = 100;

/** Candidates each branch of a hybrid query ranks: max(k, prefetch), prefetch default DEFAULT_PREFETCH. */
export function branchDepth(k: number, prefetch: number | undefined): number {
  return Math.max(k, prefetch ?? DEFAULT_PREFETCH);
}

/** BM25 collection statistics: what makes a score global across shards (docs/search.md §3). */
export interface TextStats {
  /** Documents with at least one token. */
  docs: number;
  /** Tokens in those documents, summed (avgdl = tokens / docs). */
  tokens: number;
  /** Documents holding each term. */
  df: Record<string, number>;
}

/** Names under which STATS with `text` reports a TextStats (docs/protocol.md §5.9). */
export const TEXT_STATS_DOCS = 'text.docs';
export const TEXT_STATS_TOKENS = 'text.tokens';
export const TEXT_STATS_DF_PREFIX = 'text.df.';

/** TextStats as STATS reply entries. */
export function textStatsEntries(s: TextStats): Record<string, number> {
  const out: Record<string, number> = { [TEXT_STATS_DOCS]: s.docs, [TEXT_STATS_TOKENS]: s.tokens };
  for (const [term, n] of Object.entries(s.df)) out[TEXT_STATS_DF_PREFIX + term] = n;
  return out;
}

/** The sum of several shards' TextStats (read from their STATS replies). */
export function sumTextStats(replies: readonly Record<string, unknown>[]): TextStats {
  const out: TextStats = { docs: 0, tokens: 0, df: Object.create(null) as Record<string, number> };
  for (const r of replies) {
    for (const [name, v] of Object.entries(r)) {
      if (typeof v !== 'number') continue;
      if (name === TEXT_STATS_DOCS) out.docs += v;
      else if (name === TEXT_STATS_TOKENS) out.tokens += v;
      else if (name.startsWith(TEXT_STATS_DF_PREFIX)) {
        const term = name.slice(TEXT_STATS_DF_PREFIX.length);
        out.df[term] = (out.df[term] ?? 0) + v;
      }
    }
  }
  return out;
}

/** One branch's ranked hits, best first; scores already rounded to float32 (as the wire carries them). */
export interface RankedList {
  ids: readonly string[];
  scores: ArrayLike<number>;
  /** Which branch: 'dense' weighs alpha under weighted fusion, the others share 1 - alpha. */
  branch: 'dense' | 'text' | 'sparse';
}

/** Orders hits by score, then id: one order for a store and for a client merging shards. */
export function byScoreThenId(a: { id: string; score: number }, b: { id: string; score: number }): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Checks a Fusion given by a caller; returns it with its defaults filled in. */
export function resolveFusion(f: Fusion | undefined): Required<Fusion> {
  const method = f?.method ?? 'rrf';
  if (!FUSION_METHODS.includes(method))
    throw new InvalidArgumentError(`fusion.method must be one of ${FUSION_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  const k = f?.k ?? DEFAULT_RRF_K;
  const alpha = f?.alpha ?? DEFAULT_ALPHA;
  if (!(Number.isFinite(k) && k >= 0)) throw new InvalidArgumentError(`fusion.k must be a finite number >= 0, got ${String(k)}`);
  if (!(Number.isFinite(alpha) && alpha >= 0 && alpha <= 1)) throw new InvalidArgumentError(`fusion.alpha must be in 0..1, got ${String(alpha)}`);
  return { method, k, alpha };
}

/**
 * Fuses ranked lists into the best `k` ids with their fused scores (float32-rounded), best first,
 * ties by id. An id missing from a list contributes nothing from it.
 */
export function fuseRanked(lists: readonly RankedList[], fusion: Required<Fusion>, k: number): { ids: string[]; scores: Float32Array } {
  const fused = new Map<string, number>();
  const lexical = lists.filter((l) => l.branch !== 'dense').length;
  for (const list of lists) {
    const n = list.ids.length;
    if (n === 0) continue;
    let contribution: (score: number, rank: number) => number;
    if (fusion.method === 'rrf') {
      contribution = (_s, rank) => 1 / (fusion.k + rank + 1);
    } else if (fusion.method === 'dbsf') {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += list.scores[i]!;
      mean /= n;
      let variance = 0;
      for (let i = 0; i < n; i++) variance += (list.scores[i]! - mean) ** 2;
      const sd = Math.sqrt(variance / n);
      const lo = mean - 3 * sd;
      const span = 6 * sd;
      contribution = (s) => (span > 0 ? Math.min(1, Math.max(0, (s - lo) / span)) : 1);
    } else {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        lo = Math.min(lo, list.scores[i]!);
        hi = Math.max(hi, list.scores[i]!);
      }
      const weight = list.branch === 'dense' ? fusion.alpha : (1 - fusion.alpha) / Math.max(1, lexical);
      contribution = (s) => weight * (hi > lo ? (s - lo) / (hi - lo) : 1);
    }
    for (let i = 0; i < n; i++) {
      const id = list.ids[i]!;
      fused.set(id, (fused.get(id) ?? 0) + contribution(list.scores[i]!, i));
    }
  }
  const hits = [...fused].map(([id, score]) => ({ id, score: Math.fround(score) }));
  hits.sort(byScoreThenId);
  const top = hits.slice(0, k);
  return { ids: top.map((h) => h.id), scores: Float32Array.from(top, (h) => h.score) };
}
