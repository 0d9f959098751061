// One term's postings, in increasing label order (labels only grow, so appends keep the order), cut
// into blocks of BLOCK postings with per-block maxima for block-max WAND (docs/search.md §1).
// Removed documents stay as dead postings until a quarter of the list is dead, then the list is
// compacted: a block maximum over dead postings is still an upper bound, so pruning stays exact.

export const BLOCK = 64;

export class PostingList {
  readonly labels: number[] = [];
  /** BM25: term frequency; sparse: the document's value for this index. */
  readonly weights: number[] = [];
  /** Per block: the largest weight (BM25) or largest |weight| (sparse). */
  readonly blockMax: number[] = [];
  /** Per block: the shortest document (BM25 only; empty for sparse lists). */
  readonly blockMinLen: number[] = [];
  /** Postings of documents removed since the last compaction. */
  dead = 0;

  constructor(readonly withLengths: boolean) {}

  /** Live postings: the term's document frequency. */
  get df(): number {
    return this.labels.length - this.dead;
  }

  get blocks(): number {
    return this.blockMax.length;
  }

  append(label: number, weight: number, len: number): void {
    const i = this.labels.length;
    this.labels.push(label);
    this.weights.push(weight);
    const b = Math.floor(i / BLOCK);
    const w = this.withLengths ? weight : Math.abs(weight);
    if (b === this.blockMax.length) {
      this.blockMax.push(w);
      if (this.withLengths) this.blockMinLen.push(len);
    } else {
      if (w > this.blockMax[b]!) this.blockMax[b] = w;
      if (this.withLengths && len < this.blockMinLen[b]!) this.blockMinLen[b] = len;
    }
  }

  /** Drops the postings of labels `live` says are gone and recomputes the block maxima. */
  compact(live: (label: number) => boolean, lenOf: (label: number) => number): void {
    const labels = this.labels.splice(0);
    const weights = this.weights.splice(0);
    this.blockMax.length = 0;
    this.blockMinLen.length = 0;
    this.dead = 0;
    for (let i = 0; i < labels.length; i++) if (live(labels[i]!)) this.append(labels[i]!, weights[i]!, lenOf(labels[i]!));
  }

  /** Largest weight (or |weight|) and shortest length over the whole list. */
  maxima(): { max: number; minLen: number } {
    let max = -Infinity;
    let minLen = Infinity;
    for (let b = 0; b < this.blockMax.length; b++) {
      if (this.blockMax[b]! > max) max = this.blockMax[b]!;
      if (this.withLengths && this.blockMinLen[b]! < minLen) minLen = this.blockMinLen[b]!;
    }
    return { max, minLen };
  }
}

/** A position in a PostingList; `doc` is Infinity once exhausted. */
export class PostingCursor {
  pos = 0;

  constructor(readonly list: PostingList) {}

  get doc(): number {
    return this.pos < this.list.labels.length ? this.list.labels[this.pos]! : Infinity;
  }

  next(): void {
    this.pos++;
  }

  /** Moves to the first posting with label >= target (never backwards). */
  seek(target: number): void {
    const labels = this.list.labels;
    const n = labels.length;
    if (this.pos >= n || labels[this.pos]! >= target) return;
    // Skip whole blocks by their last label, then binary-search inside the block.
    let b = Math.floor(this.pos / BLOCK);
    while (b * BLOCK + BLOCK - 1 < n - 1 && labels[b * BLOCK + BLOCK - 1]! < target) b++;
    let lo = Math.max(this.pos, b * BLOCK);
    let hi = Math.min(n, b * BLOCK + BLOCK);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (labels[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    this.pos = lo;
  }

  /** The block holding the first posting >= target, and that block's last label (no move). */
  blockFor(target: number): { block: number; last: number } {
    const labels = this.list.labels;
    const n = labels.length;
    let b = Math.floor(this.pos / BLOCK);
    while (b * BLOCK + BLOCK - 1 < n - 1 && labels[b * BLOCK + BLOCK - 1]! < target) b++;
    return { block: b, last: labels[Math.min(n - 1, b * BLOCK + BLOCK - 1)]! };
  }
}
