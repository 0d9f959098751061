// Sparse vectors (docs/search.md §2: SPLADE, bge-m3 lexical weights) on the same postings and
// block-max WAND as BM25: index -> postings of (label, value); a query scores by dot product.
import { InvalidArgumentError, type SparseVector } from '@ragwire/protocol';
import { blockMaxWand, type ScoredTerm, type TieBreak, type TopK } from './block-max-wand';
import { PostingList } from './postings';

export class SparseIndex {
  readonly #lists = new Map<number, PostingList>();
  /** label -> its indices, to remove it. */
  readonly #docs = new Map<number, Uint32Array>();

  add(label: number, v: SparseVector): void {
    if (v.indices.length === 0) return;
    for (let i = 0; i < v.indices.length; i++) {
      const index = v.indices[i]!;
      let list = this.#lists.get(index);
      if (!list) this.#lists.set(index, (list = new PostingList(false)));
      list.append(label, v.values[i]!, 0);
    }
    this.#docs.set(label, Uint32Array.from(v.indices));
  }

  remove(label: number): void {
    const indices = this.#docs.get(label);
    if (!indices) return;
    this.#docs.delete(label);
    for (const index of indices) {
      const list = this.#lists.get(index)!;
      list.dead++;
      if (list.df === 0) this.#lists.delete(index);
      else if (list.dead * 4 > list.labels.length)
        list.compact(
          (l) => this.#docs.has(l),
          () => 0,
        );
    }
  }

  get size(): number {
    return this.#docs.size;
  }

  /** The k documents with the largest dot product with `q` (among documents sharing an index with it). */
  search(q: SparseVector, k: number, accept: (label: number) => boolean, tieBreak?: TieBreak): TopK {
    const terms: ScoredTerm[] = [];
    for (let i = 0; i < q.indices.length; i++) {
      const list = this.#lists.get(q.indices[i]!);
      const w = q.values[i]!;
      if (!list || w === 0) continue;
      const scale = Math.abs(w);
      terms.push({
        list,
        score: (pos) => w * list.weights[pos]!,
        bound: scale * list.maxima().max,
        blockBound: (b) => scale * list.blockMax[b]!,
      });
    }
    return blockMaxWand(terms, k, (label) => this.#docs.has(label) && accept(label), tieBreak);
  }
}

/** Checks a sparse vector (indices strictly increasing, values finite); `what` names it in the error. */
export function checkSparse(v: unknown, what: string): SparseVector {
  const s = v as SparseVector;
  if (!(s?.indices instanceof Uint32Array) || !(s.values instanceof Float32Array) || s.indices.length !== s.values.length) {
    throw new InvalidArgumentError(`${what} must be { indices: Uint32Array, values: Float32Array } of one length`);
  }
  for (let i = 0; i < s.indices.length; i++) {
    if (i > 0 && s.indices[i]! <= s.indices[i - 1]!) throw new InvalidArgumentError(`${what}.indices must be strictly increasing (at ${i})`);
    if (!Number.isFinite(s.values[i]!)) throw new InvalidArgumentError(`${what}.values[${i}] is ${s.values[i]}, not finite`);
  }
  return s;
}
