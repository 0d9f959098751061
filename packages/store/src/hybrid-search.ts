// docs/search.md §3: text, sparse and hybrid queries on one collection. Each branch (dense, text,
// sparse) ranks max(k, prefetch) candidates, scores rounded to float32 and ordered by (score, id), as
// a client merging N shards orders them; one branch is answered as is, several are fused by
// fuseRanked. The same steps on the client over N shards give the same ids and scores.
import {
  InvalidArgumentError,
  NO_LABEL,
  byScoreThenId,
  fuseRanked,
  resolveFusion,
  branchDepth,
  type Fusion,
  type RankedList,
  type SparseVector,
  type TextStats,
} from '@ragwire/protocol';
import type { Index, SearchOptions } from '@ragwire/native';
import type { TopK } from './text/block-max-wand';
import { checkSparse, type SparseIndex } from './text/sparse-index';
import type { TextIndex } from './text/text-index';

export interface HybridQuery {
  /** n x dim, or empty for no dense branch. */
  vectors: Float32Array;
  text?: string[];
  sparse?: SparseVector[];
  k: number;
  prefetch?: number;
  fusion?: Fusion;
  textStats?: TextStats;
}

/** What a hybrid search reads of its collection. */
export interface HybridSource {
  index: Index;
  text: TextIndex;
  sparse: SparseIndex;
  labelToId: Map<number, string>;
}

/** One query's hits, best first. */
export interface Hits {
  ids: string[];
  labels: number[];
  scores: number[];
}

/** How many queries a hybrid request holds; checks that its parts agree. */
export function hybridQueryCount(q: HybridQuery, dim: number): number {
  const counts = new Set<number>();
  if (q.vectors.length > 0) counts.add(q.vectors.length / dim);
  if (q.text !== undefined) {
    if (!Array.isArray(q.text) || !q.text.every((t) => typeof t === 'string'))
      throw new InvalidArgumentError('text must be an array of strings, one per query');
    counts.add(q.text.length);
  }
  if (q.sparse !== undefined) {
    if (!Array.isArray(q.sparse)) throw new InvalidArgumentError('sparse must be an array of sparse vectors, one per query');
    q.sparse.forEach((v, i) => {
      checkSparse(v, `sparse[${i}]`);
    });
    counts.add(q.sparse.length);
  }
  if (counts.size !== 1) throw new InvalidArgumentError(`vectors, text and sparse must hold the same number of queries, got ${[...counts].join(' and ')}`);
  const n = [...counts][0]!;
  if (n === 0) throw new InvalidArgumentError('a query needs at least one vector, text or sparse vector');
  return n;
}

/** Runs every query of `q`; `filter` is the allow-list bitset, when there is one. */
export async function hybridSearch(
  src: HybridSource,
  q: HybridQuery,
  n: number,
  filter: Uint8Array | undefined,
  search: Omit<SearchOptions, 'filter'>,
): Promise<Hits[]> {
  const fusion = resolveFusion(q.fusion);
  const depth = branchDepth(q.k, q.prefetch);
  const branches = (q.vectors.length > 0 ? 1 : 0) + (q.text ? 1 : 0) + (q.sparse ? 1 : 0);
  const keep = branches === 1 ? q.k : depth;
  // Equal scores order by id: the order a client merging shards applies too.
  const tieBreak = (a: number, b: number) => {
    const x = src.labelToId.get(a) ?? '';
    const y = src.labelToId.get(b) ?? '';
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const accept = filter ? (label: number) => ((filter[label >>> 3]! >> (label & 7)) & 1) === 1 : () => true;
  let dense: Hits[] | undefined;
  if (q.vectors.length > 0) {
    const r = await src.index.search(q.vectors, keep, { ...search, ...(filter ? { filter } : {}) });
    dense = [];
    for (let i = 0; i < n; i++) {
      const top: TopK = { labels: [], scores: [] };
      for (let j = 0; j < keep; j++) {
        const label = r.labels[i * keep + j]!;
        if (label === NO_LABEL) break;
        top.labels.push(label);
        top.scores.push(r.scores[i * keep + j]!);
      }
      dense.push(toHits(src, top, keep));
    }
  }
  const out: Hits[] = [];
  for (let i = 0; i < n; i++) {
    const lists: (Hits & { branch: RankedList['branch'] })[] = [];
    if (dense) lists.push({ ...dense[i]!, branch: 'dense' });
    if (q.text) lists.push({ ...toHits(src, src.text.search(q.text[i]!, keep, accept, q.textStats, tieBreak), keep), branch: 'text' });
    if (q.sparse) lists.push({ ...toHits(src, src.sparse.search(q.sparse[i]!, keep, accept, tieBreak), keep), branch: 'sparse' });
    if (lists.length === 1) {
      out.push(lists[0]!);
      continue;
    }
    const fused = fuseRanked(lists, fusion, q.k);
    const labelOf = new Map<string, number>();
    for (const l of lists)
      l.ids.forEach((id, j) => {
        labelOf.set(id, l.labels[j]!);
      });
    out.push({ ids: fused.ids, scores: Array.from(fused.scores), labels: fused.ids.map((id) => labelOf.get(id)!) });
  }
  return out;
}

/** Labels to live ids, scores rounded to float32 (as the wire carries them), ordered by (score, id). */
function toHits(src: HybridSource, top: TopK, keep: number): Hits {
  const rows: { id: string; label: number; score: number }[] = [];
  for (let j = 0; j < top.labels.length; j++) {
    const id = src.labelToId.get(top.labels[j]!);
    if (id !== undefined) rows.push({ id, label: top.labels[j]!, score: Math.fround(top.scores[j]!) });
  }
  rows.sort(byScoreThenId);
  rows.length = Math.min(rows.length, keep);
  return { ids: rows.map((r) => r.id), labels: rows.map((r) => r.label), scores: rows.map((r) => r.score) };
}
