import { describe, expect, it } from 'vitest';
import { classify, detokenizeRoute, relevance, rerank, score, tokenizeRoute } from './pooling';

describe("the simulator's pooling and tokenizer routes", () => {
  it("reranks deterministically: a document sharing the query's words comes first", () => {
    const body = {
      query: 'how does the shard server merge results',
      documents: ['bananas are yellow', 'the shard server merges results from every shard', { text: 'cats sleep a lot' }],
      top_n: 2,
    };
    const a = rerank(body, 'm', 64) as { results: { index: number; relevance_score: number; document: { text: string } }[] };
    const b = rerank(body, 'm', 64) as typeof a;
    expect(a.results.map((r) => r.index)).toEqual(b.results.map((r) => r.index));
    expect(a.results).toHaveLength(2);
    expect(a.results[0]!.index).toBe(1);
    expect(a.results[0]!.relevance_score).toBeGreaterThan(a.results[1]!.relevance_score);
    expect(a.results[0]!.relevance_score).toBeCloseTo(relevance(body.query, body.documents[1] as string, 64), 12);
  });

  it('scores pairs, classifies into fixed labels', () => {
    const s = score({ text_1: 'vector index', text_2: ['vector index', 'tomato soup'] }, 'm', 64) as { data: { score: number }[] };
    expect(s.data[0]!.score).toBeCloseTo(1, 6);
    expect(s.data[0]!.score).toBeGreaterThan(s.data[1]!.score);
    const c = classify({ input: ['great', 'awful'] }, 'm') as { data: { label: string; probs: number[] }[] };
    for (const d of c.data) expect(d.probs.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
  });

  it('tokenizes and detokenizes back', () => {
    const t = tokenizeRoute({ prompt: 'Hello, vector world.' }, 4096) as { count: number; tokens: number[] };
    expect(t.count).toBe(5);
    expect(detokenizeRoute({ tokens: t.tokens })).toEqual({ prompt: 'Hello, vector world.' });
  });
});
