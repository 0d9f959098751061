// Quality (nDCG@10, recall@100 against SciFact's judgments) and speed (queries per second, one
// query at a time, after a warm-up pass) of one mode.
import { ndcgAt, recallAt, type Scifact } from '@ragwire/datasets';
import type { Mode } from './types';

export interface ModeResult {
  engine: string;
  mode: string;
  ndcg10: number;
  recall100: number;
  qps: number;
  p50Ms: number;
}

export async function evaluate(engine: string, mode: Mode, data: Scifact, passes: number): Promise<ModeResult> {
  const n = data.queries.length;
  let ndcg = 0;
  let recall = 0;
  for (let i = 0; i < n; i++) {
    const relevant = data.qrels.get(data.queries[i]!.id) ?? new Set<string>();
    const ranked = await mode.search(i, 100);
    ndcg += ndcgAt(ranked, relevant, 10);
    recall += recallAt(ranked, relevant, 100);
  }
  const times: number[] = [];
  const started = performance.now();
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await mode.search(i, 10);
      times.push(performance.now() - t);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return { engine, mode: mode.name, ndcg10: ndcg / n, recall100: recall / n, qps: (passes * n) / seconds, p50Ms: times[times.length >> 1]! };
}
