// The BM25 index of a collection (docs/search.md §1): term -> postings of (label, term frequency),
// each document's length in terms, derived from the payload texts in LMDB like the filter index.
// Scores follow Lucene's BM25 with exact (not byte-quantised) lengths and the classic (k1 + 1):
//   idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))
//   score(d, q) = sum over distinct t in q of qtf(t) * idf(t) * tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl))
// with N the documents that have at least one term and avgdl their mean length. N, avgdl and df are
// the collection's own, or global ones a client gathered from every shard (TextStats).
import type { TextSettings, TextStats } from '@ragwire/protocol';
import { blockMaxWand, type ScoredTerm, type TieBreak, type TopK } from './block-max-wand';
import { PostingList } from './postings';
import { Tokenizer } from './tokenizer';

export class TextIndex {
  readonly tokenizer: Tokenizer;
  readonly #terms = new Map<string, PostingList>();
  /** label -> its distinct terms with their frequencies (to remove it, and to snapshot), and its length. */
  readonly #docs = new Map<number, { terms: string[]; tfs: number[]; len: number }>();
  #tokens = 0;

  constructor(readonly settings: TextSettings) {
    this.tokenizer = new Tokenizer(settings.language);
  }

  /** The text a document is indexed under: its payload text and the configured metadata fields. */
  documentText(text: string | undefined, metadata: Record<string, unknown> | undefined): string {
    const parts: string[] = text ? [text] : [];
    for (const path of this.settings.fields ?? []) {
      let v: unknown = metadata;
      for (const key of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
      if (typeof v === 'string') parts.push(v);
    }
    return parts.join(' ');
  }

  add(label: number, text: string): void {
    const tf = new Map<string, number>();
    for (const t of this.tokenizer.terms(text)) tf.set(t, (tf.get(t) ?? 0) + 1);
    this.addTerms(label, [...tf.keys()], [...tf.values()]);
  }

  /** Adds a document by its distinct terms and their frequencies (a snapshot's form); labels must grow. */
  addTerms(label: number, terms: string[], tfs: number[]): void {
    if (terms.length === 0) return;
    let len = 0;
    for (const n of tfs) len += n;
    for (let i = 0; i < terms.length; i++) {
      let list = this.#terms.get(terms[i]!);
      if (!list) this.#terms.set(terms[i]!, (list = new PostingList(true)));
      list.append(label, tfs[i]!, len);
    }
    this.#docs.set(label, { terms, tfs, len });
    this.#tokens += len;
  }

  /** Every indexed document as (label, distinct terms, frequencies), in label order: what a snapshot keeps. */
  *documents(): Generator<[number, string[], number[]]> {
    const labels = [...this.#docs.keys()].sort((a, b) => a - b);
    for (const label of labels) {
      const d = this.#docs.get(label)!;
      yield [label, d.terms, d.tfs];
    }
  }

  has(label: number): boolean {
    return this.#docs.has(label);
  }

  remove(label: number): void {
    const doc = this.#docs.get(label);
    if (!doc) return;
    this.#docs.delete(label);
    this.#tokens -= doc.len;
    for (const term of doc.terms) {
      const list = this.#terms.get(term)!;
      list.dead++;
      if (list.df === 0) this.#terms.delete(term);
      else if (list.dead * 4 > list.labels.length)
        list.compact(
          (l) => this.#docs.has(l),
          (l) => this.#docs.get(l)!.len,
        );
    }
  }

  /** N, total tokens and the df of `texts`' terms: what one shard adds to the global statistics. */
  stats(texts: readonly string[] = []): TextStats {
    const df: Record<string, number> = {};
    for (const text of texts) for (const t of this.tokenizer.terms(text)) df[t] = this.#terms.get(t)?.df ?? 0;
    return { docs: this.#docs.size, tokens: this.#tokens, df };
  }

  /**
   * The k best documents for `text` by BM25, by block-max WAND; `global` replaces the collection's
   * own statistics (a query over N shards). `accept` filters labels (deleted, allow-list).
   */
  search(text: string, k: number, accept: (label: number) => boolean, global?: TextStats, tieBreak?: TieBreak): TopK {
    const qtf = new Map<string, number>();
    for (const t of this.tokenizer.terms(text)) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    const N = global?.docs ?? this.#docs.size;
    const avgdl = N > 0 ? (global?.tokens ?? this.#tokens) / N : 1;
    const { k1, b } = this.settings;
    const live = (label: number) => this.#docs.has(label) && accept(label);
    const terms: ScoredTerm[] = [];
    for (const [term, count] of qtf) {
      const list = this.#terms.get(term);
      if (!list) continue;
      const df = global?.df[term] ?? list.df;
      const weight = count * Math.log(1 + (N - df + 0.5) / (df + 0.5));
      const tfPart = (tf: number, len: number) => (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * len) / avgdl));
      const { max, minLen } = list.maxima();
      terms.push({
        list,
        score: (pos) => weight * tfPart(list.weights[pos]!, this.#docs.get(list.labels[pos]!)?.len ?? Infinity),
        bound: weight * tfPart(max, minLen),
        blockBound: (blk) => weight * tfPart(list.blockMax[blk]!, list.blockMinLen[blk]!),
      });
    }
    return blockMaxWand(terms, k, live, tieBreak);
  }

  /** Documents with at least one term. */
  get size(): number {
    return this.#docs.size;
  }
}
