// Merging per-shard top-k lists (docs/protocol.md §5.8 columnar results) into the global top-k.
import type { Payload } from '@ragwire/protocol';

/** Columnar hits of n queries: query i's hits are entries [offset_i, offset_i + counts[i]), best first. */
export interface ColumnarHits {
  counts: Uint32Array;
  ids: string[];
  scores: Float32Array;
  payloads?: (Payload | null)[];
  /** sum(counts) x dim hit vectors, row-major, when the query asked for them. */
  vectors?: Float32Array;
}

/**
 * The best `k` hits of each of `n` queries across `lists` (one per shard, each best first, higher
 * score = better), by a k-way merge over a binary heap of one cursor per list. Equal scores keep
 * list order (lower list index first), or with `ties: 'id'` go by id (lists ordered by (score, id),
 * as text and sparse results are: the merge then equals one store's order, docs/search.md §3).
 * Payloads and vectors are merged when every list carries them.
 */
export function mergeTopK(lists: readonly ColumnarHits[], n: number, k: number, ties: 'list' | 'id' = 'list'): ColumnarHits {
  const s = lists.length;
  if (s === 1 && lists[0]!.counts.every((c) => c <= k)) return lists[0]!;
  const withPayloads = s > 0 && lists.every((l) => l.payloads !== undefined);
  const offsets = lists.map(() => 0);
  const counts = new Uint32Array(n);
  const ids: string[] = [];
  const scoreOut: number[] = [];
  const payloads: (Payload | null)[] | undefined = withPayloads ? [] : undefined;
  const withVectors = s > 0 && lists.every((l) => l.vectors !== undefined);
  const dim = withVectors ? vectorDim(lists) : 0;
  const rows: Float32Array[] = [];
  // Heap of list indices, ordered by the score at each list's cursor.
  const heap = new Int32Array(s);
  const pos = new Int32Array(s);
  const end = new Int32Array(s);
  const better = (a: number, b: number): boolean => {
    const sa = lists[a]!.scores[pos[a]!]!;
    const sb = lists[b]!.scores[pos[b]!]!;
    if (sa !== sb) return sa > sb;
    if (ties === 'id') {
      const ia = lists[a]!.ids[pos[a]!]!;
      const ib = lists[b]!.ids[pos[b]!]!;
      if (ia !== ib) return ia < ib;
    }
    return a < b;
  };
  const siftDown = (size: number, i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && better(heap[r]!, heap[l]!) ? r : l;
      if (!better(heap[c]!, heap[i]!)) return;
      const t = heap[i]!;
      heap[i] = heap[c]!;
      heap[c] = t;
      i = c;
    }
  };
  for (let q = 0; q < n; q++) {
    let size = 0;
    for (let l = 0; l < s; l++) {
      const c = lists[l]!.counts[q] ?? 0;
      pos[l] = offsets[l]!;
      end[l] = offsets[l]! + c;
      offsets[l]! += c;
      if (c > 0) heap[size++] = l;
    }
    for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(size, i);
    let taken = 0;
    while (size > 0 && taken < k) {
      const l = heap[0]!;
      const list = lists[l]!;
      const p = pos[l]!;
      ids.push(list.ids[p]!);
      scoreOut.push(list.scores[p]!);
      if (payloads) payloads.push(list.payloads![p] ?? null);
      if (withVectors) rows.push(list.vectors!.subarray(p * dim, (p + 1) * dim));
      taken++;
      pos[l] = p + 1;
      if (pos[l]! >= end[l]!) heap[0] = heap[--size]!;
      siftDown(size, 0);
    }
    counts[q] = taken;
  }
  const out: ColumnarHits = { counts, ids, scores: Float32Array.from(scoreOut) };
  if (payloads) out.payloads = payloads;
  if (withVectors) {
    const vectors = new Float32Array(rows.length * dim);
    rows.forEach((row, i) => vectors.set(row, i * dim));
    out.vectors = vectors;
  }
  return out;
}

/** The vectors' dimension, from any list that has hits (every list holds the same collection's). */
function vectorDim(lists: readonly ColumnarHits[]): number {
  for (const l of lists) if (l.ids.length > 0) return l.vectors!.length / l.ids.length;
  return 0;
}
