// The text index against a reference BM25 written here once (Lucene's formula, scoring every document),
// on real abstracts (BEIR SciFact, ../shared/data/scifact), and the sparse index against brute force.
import { describe, expect, it } from 'vitest';
import { Prng, loadScifact } from '@ragwire/datasets';
import { DEFAULT_TEXT_SETTINGS, type SparseVector } from '@ragwire/protocol';
import { SparseIndex } from './sparse-index';
import { TextIndex } from './text-index';
import { Tokenizer } from './tokenizer';

const scifact = loadScifact();
const DOCS = 2000;
const QUERIES = 60;
const K = 10;

/** Lucene BM25 (classic (k1 + 1) numerator, exact lengths) over every document: no index, no pruning. */
function referenceBm25(docs: string[][], k1: number, b: number): (query: string[]) => number[] {
  const N = docs.filter((d) => d.length > 0).length;
  const avgdl = docs.reduce((s, d) => s + d.length, 0) / N;
  const df = new Map<string, number>();
  const tfs = docs.map((d) => {
    const tf = new Map<string, number>();
    for (const t of d) tf.set(t, (tf.get(t) ?? 0) + 1);
    return tf;
  });
  for (const tf of tfs) for (const t of tf.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  return (query) => {
    const qtf = new Map<string, number>();
    for (const t of query) qtf.set(t, (qtf.get(t) ?? 0) + 1);
    return docs.map((d, i) => {
      let score = 0;
      for (const [t, count] of qtf) {
        const tf = tfs[i]!.get(t) ?? 0;
        if (tf === 0) continue;
        const n = df.get(t)!;
        const idf = Math.log(1 + (N - n + 0.5) / (n + 0.5));
        score += count * idf * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * d.length) / avgdl)));
      }
      return score;
    });
  };
}

function topK(scores: number[], k: number): { labels: number[]; scores: number[] } {
  const order = scores.map((_, i) => i).filter((i) => scores[i]! > 0);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const top = order.slice(0, k);
  return { labels: top, scores: top.map((i) => scores[i]!) };
}

describe.skipIf(scifact === null)('BM25 on SciFact abstracts equals a reference Lucene BM25', () => {
  if (scifact === null) console.warn('skipped: ../shared/data/scifact is absent');
  const docs = scifact?.docs.slice(0, DOCS).map((d) => `${d.title} ${d.text}`) ?? [];
  const queries = scifact?.queries.slice(0, QUERIES).map((q) => q.text) ?? [];

  for (const language of ['en', 'none'] as const) {
    it(`scores and ranks every query's top-${K} as the reference does (language ${language}, k1 1.2, b 0.75)`, () => {
      const settings = { language, k1: 1.2, b: 0.75 };
      const index = new TextIndex(settings);
      docs.forEach((d, i) => {
        index.add(i, d);
      });
      const tok = new Tokenizer(language);
      const reference = referenceBm25(
        docs.map((d) => tok.terms(d)),
        settings.k1,
        settings.b,
      );
      let compared = 0;
      for (const q of queries) {
        const want = topK(reference(tok.terms(q)), K);
        const got = index.search(q, K, () => true);
        expect(got.labels).toEqual(want.labels);
        got.scores.forEach((s, i) => {
          expect(s).toBeCloseTo(want.scores[i]!, 9);
        });
        compared += got.labels.length;
      }
      expect(compared).toBeGreaterThan(QUERIES * K * 0.9);
    });
  }

  it('stays exact after deletes (dead postings, compaction) and under a filter', () => {
    const index = new TextIndex(DEFAULT_TEXT_SETTINGS);
    const tok = new Tokenizer(DEFAULT_TEXT_SETTINGS.language);
    docs.forEach((d, i) => {
      index.add(i, d);
    });
    const removed = new Set<number>();
    for (let i = 0; i < docs.length; i += 3) {
      index.remove(i);
      removed.add(i);
    }
    const reference = referenceBm25(
      docs.map((d, i) => (removed.has(i) ? [] : tok.terms(d))),
      DEFAULT_TEXT_SETTINGS.k1,
      DEFAULT_TEXT_SETTINGS.b,
    );
    const even = (label: number) => label % 2 === 0;
    for (const q of queries.slice(0, 20)) {
      const scores = reference(tok.terms(q));
      const want = topK(scores, K);
      const got = index.search(q, K, () => true);
      expect(got.labels).toEqual(want.labels);
      got.scores.forEach((s, i) => {
        expect(s).toBeCloseTo(want.scores[i]!, 9);
      });
      const filtered = topK(
        scores.map((s, i) => (even(i) ? s : 0)),
        K,
      );
      expect(index.search(q, K, even).labels).toEqual(filtered.labels);
    }
    expect(index.size).toBe(docs.length - removed.size);
  });
});

describe('sparse index', () => {
  it('returns the exact top-k by dot product, deletes included', () => {
    const prng = new Prng(7);
    const rand = () => prng.nextFloat();
    const vocab = 300;
    const docs: SparseVector[] = [];
    const index = new SparseIndex();
    for (let d = 0; d < 3000; d++) {
      const picked = new Set<number>();
      const nnz = 1 + Math.floor(rand() * 20);
      // Zipf-like: low indices are common, as SPLADE's frequent terms are.
      while (picked.size < nnz) picked.add(Math.floor(vocab * rand() ** 2));
      const indices = Uint32Array.from([...picked].sort((a, b) => a - b));
      const v = { indices, values: Float32Array.from(indices, () => rand() * 2) };
      docs.push(v);
      index.add(d, v);
    }
    for (let d = 0; d < 3000; d += 7) index.remove(d);
    const dot = (a: SparseVector, b: SparseVector) => {
      let s = 0;
      a.indices.forEach((ix, i) => {
        const j = b.indices.indexOf(ix);
        if (j >= 0) s += a.values[i]! * b.values[j]!;
      });
      return s;
    };
    for (let q = 0; q < 30; q++) {
      const indices = Uint32Array.from([3, 17, 40 + q, 100 + q * 3]);
      const query = { indices, values: Float32Array.from(indices, () => 0.5 + rand()) };
      const scores = docs.map((d, i) => (i % 7 === 0 || !d.indices.some((ix) => indices.includes(ix)) ? -Infinity : dot(query, d)));
      const order = scores.map((_, i) => i).filter((i) => scores[i] !== -Infinity);
      order.sort((a, b) => scores[b]! - scores[a]! || a - b);
      const got = index.search(query, K, () => true);
      expect(got.labels).toEqual(order.slice(0, K));
      got.scores.forEach((s, i) => {
        expect(s).toBeCloseTo(scores[order[i]!]!, 9);
      });
    }
  });
});
