// A quality floor for BM25 on BEIR SciFact (../shared/data/scifact: 5,183 abstracts, 150 test queries):
// a tokenizer or scoring change that loses relevant documents fails here. Measured 0.6987 nDCG@10 with
// language 'en', k1 0.9, b 0.4 (bench/src/hybrid; the README's plain no-stemming BM25: 0.674).
import { describe, expect, it } from 'vitest';
import { loadScifact, ndcgAt, recallAt } from '@ragwire/datasets';
import { TextIndex } from './text-index';

const scifact = loadScifact();
const NDCG10_FLOOR = 0.69;
const RECALL100_FLOOR = 0.92;

describe.skipIf(scifact === null)('BM25 quality on SciFact', () => {
  if (scifact === null) console.warn('skipped: ../shared/data/scifact is absent');

  it(`keeps nDCG@10 >= ${NDCG10_FLOOR} and recall@100 >= ${RECALL100_FLOOR} (language en, k1 0.9, b 0.4)`, () => {
    const data = scifact!;
    const index = new TextIndex({ language: 'en', k1: 0.9, b: 0.4 });
    data.docs.forEach((d, label) => {
      index.add(label, `${d.title} ${d.text}`);
    });
    let ndcg = 0;
    let recall = 0;
    for (const q of data.queries) {
      const relevant = data.qrels.get(q.id) ?? new Set<string>();
      const ranked = index.search(q.text, 100, () => true).labels.map((label) => data.docs[label]!.id);
      ndcg += ndcgAt(ranked, relevant, 10);
      recall += recallAt(ranked, relevant, 100);
    }
    ndcg /= data.queries.length;
    recall /= data.queries.length;
    console.log(`BM25 on SciFact: nDCG@10 ${ndcg.toFixed(4)}, recall@100 ${recall.toFixed(4)}`);
    expect(ndcg).toBeGreaterThanOrEqual(NDCG10_FLOOR);
    expect(recall).toBeGreaterThanOrEqual(RECALL100_FLOOR);
  });
});
