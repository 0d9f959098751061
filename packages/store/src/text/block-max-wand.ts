// Block-max WAND (Ding & Suel, SIGIR 2011): the exact top-k of a sum of per-term scores without
// scoring every posting. Cursors are ordered by their current document; the pivot is the first
// document whose cursors' score bounds can beat the k-th best score so far (WAND); before scoring
// it, the bounds of the blocks holding it are checked too, and a losing run of blocks is skipped.
// Scores are summed in query-term order, so a document scores the same however it was reached.
import { PostingCursor, type PostingList } from './postings';

/** One query term: its postings and how its postings score. */
export interface ScoredTerm {
  list: PostingList;
  /** Score of posting `pos` of the list. */
  score(pos: number): number;
  /** An upper bound of score() over the whole list. */
  bound: number;
  /** An upper bound of score() over block `b`. */
  blockBound(b: number): number;
}

export interface TopK {
  labels: number[];
  scores: number[];
}

/** Slack on bound comparisons: a bound and a score summed in other orders may differ in the last bits. */
const SLACK = 1e-9;

/** Orders two labels of equal score: negative when `a` goes first. */
export type TieBreak = (a: number, b: number) => number;

/**
 * The best k labels by summed score (higher first; equal scores by `tieBreak`, default lower label
 * first), among labels `accept` admits (live, and in the filter's allow-list). Only documents
 * holding a term are scored. A document tied with the k-th is scored, not pruned, so the answer is
 * the one total order's top-k whatever order the documents are visited in (a store and N shards agree).
 */
export function blockMaxWand(terms: readonly ScoredTerm[], k: number, accept: (label: number) => boolean, tieBreak: TieBreak = (a, b) => a - b): TopK {
  const heap = new ResultHeap(k, tieBreak);
  const cursors = terms.map((t) => ({ term: t, c: new PostingCursor(t.list) }));
  const order = cursors.slice();
  for (;;) {
    order.sort((a, b) => a.c.doc - b.c.doc);
    while (order.length > 0 && order[order.length - 1]!.c.doc === Infinity) order.pop();
    if (order.length === 0) break;
    const theta = heap.threshold();
    // Pivot: the first cursor where the bounds so far can beat theta.
    let acc = 0;
    let p = -1;
    for (let i = 0; i < order.length; i++) {
      acc += order[i]!.term.bound;
      if (beats(acc, theta)) {
        p = i;
        break;
      }
    }
    if (p < 0) break;
    const pivot = order[p]!.c.doc;
    while (p + 1 < order.length && order[p + 1]!.c.doc === pivot) p++;
    // Block-max check over the cursors up to the pivot.
    let blockSum = 0;
    let nextDoc = p + 1 < order.length ? order[p + 1]!.c.doc : Infinity;
    for (let i = 0; i <= p; i++) {
      const { block, last } = order[i]!.c.blockFor(pivot);
      blockSum += order[i]!.term.blockBound(block);
      if (last + 1 < nextDoc) nextDoc = last + 1;
    }
    if (!beats(blockSum, theta)) {
      // No document in [pivot, nextDoc) can beat theta: it holds only these terms, within these blocks.
      for (let i = 0; i <= p; i++) order[i]!.c.seek(nextDoc);
      continue;
    }
    if (order[0]!.c.doc === pivot) {
      if (accept(pivot)) {
        let score = 0;
        for (const { term, c } of cursors) if (c.doc === pivot) score += term.score(c.pos);
        heap.offer(pivot, score);
      }
      for (let i = 0; i <= p; i++) order[i]!.c.next();
    } else {
      // Documents before the pivot hold only terms whose bounds sum to at most theta.
      for (let i = 0; i < p; i++) order[i]!.c.seek(pivot);
    }
  }
  return heap.sorted();
}

function beats(bound: number, theta: number): boolean {
  return bound + SLACK * Math.abs(bound) >= theta;
}

/** The k best (score, label) pairs seen: a min-heap on (score, then higher label = worse). */
class ResultHeap {
  readonly #labels: number[] = [];
  readonly #scores: number[] = [];

  constructor(
    readonly k: number,
    readonly tieBreak: TieBreak,
  ) {}

  threshold(): number {
    return this.#labels.length < this.k ? -Infinity : this.#scores[0]!;
  }

  offer(label: number, score: number): void {
    if (this.#labels.length < this.k) {
      this.#labels.push(label);
      this.#scores.push(score);
      this.#up(this.#labels.length - 1);
    } else if (score > this.#scores[0]! || (score === this.#scores[0]! && this.tieBreak(label, this.#labels[0]!) < 0)) {
      this.#labels[0] = label;
      this.#scores[0] = score;
      this.#down(0);
    }
  }

  sorted(): TopK {
    const idx = this.#labels.map((_, i) => i);
    idx.sort((a, b) => this.#scores[b]! - this.#scores[a]! || this.tieBreak(this.#labels[a]!, this.#labels[b]!));
    return { labels: idx.map((i) => this.#labels[i]!), scores: idx.map((i) => this.#scores[i]!) };
  }

  #worse(i: number, j: number): boolean {
    const a = this.#scores[i]!;
    const b = this.#scores[j]!;
    return a < b || (a === b && this.tieBreak(this.#labels[i]!, this.#labels[j]!) > 0);
  }

  #swap(i: number, j: number): void {
    [this.#labels[i], this.#labels[j]] = [this.#labels[j]!, this.#labels[i]!];
    [this.#scores[i], this.#scores[j]] = [this.#scores[j]!, this.#scores[i]!];
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#worse(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#labels.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.#worse(r, l) ? r : l;
      if (!this.#worse(c, i)) return;
      this.#swap(c, i);
      i = c;
    }
  }
}
