/** Timed runs of one engine: single queries, batches, and the efSearch sweep. */
import { recallAtK } from '@ragwire/datasets';
import { quantile } from '../stats';
import type { AnnEngine } from './engines/engine';

export interface Truth {
  ids: Int32Array | Uint32Array;
  stride: number;
}

export interface SingleRun {
  qps: number;
  p50us: number;
  p99us: number;
  recall: number;
  /** Queries answered per pass (all, unless a time budget cut the pass). */
  queries: number;
}

export interface BatchRun {
  qps: number;
  recall: number;
  calls: number;
}

export interface SweepPoint {
  efSearch: number;
  recall: number;
  qps: number;
}

/**
 * Answers the queries one per call, in passes, until `minSeconds` have passed
 * (at least one pass). `budgetSeconds` cuts a pass short for slow engines.
 */
export async function measureSingle(
  engine: AnnEngine,
  mode: 'sync' | 'async',
  nq: number,
  k: number,
  truth: Truth,
  minSeconds: number,
  budgetSeconds = Infinity,
): Promise<SingleRun> {
  const ids = new Uint32Array(nq * k);
  const latencies: number[] = [];
  let answered = nq;
  let elapsed = 0;
  let total = 0;
  for (let pass = 0; pass === 0 || (elapsed < minSeconds * 1000 && pass < 1000); pass++) {
    const raws: unknown[] = [];
    for (let i = 0; i < answered; i++) {
      const t0 = performance.now();
      const raw = mode === 'sync' ? engine.searchOne!(i, k) : await engine.searchOneAsync!(i, k);
      const dt = performance.now() - t0;
      elapsed += dt;
      latencies.push(dt);
      total++;
      if (pass === 0) raws.push(raw);
      if (pass === 0 && elapsed > budgetSeconds * 1000 && i >= 2) {
        answered = i + 1;
        break;
      }
    }
    if (pass === 0) raws.forEach((raw, i) => engine.ids(raw, k, ids, i * k));
  }
  return {
    qps: total / (elapsed / 1000),
    p50us: quantile(latencies, 0.5) * 1000,
    p99us: quantile(latencies, 0.99) * 1000,
    recall: recallAtK(ids, truth.ids, answered, k, truth.stride),
    queries: answered,
  };
}

/** Answers all queries in one call, repeated until `minSeconds` have passed. */
export async function measureBatch(engine: AnnEngine, nq: number, k: number, truth: Truth, minSeconds: number): Promise<BatchRun> {
  let elapsed = 0;
  let calls = 0;
  let ids: Uint32Array | null = null;
  while (calls === 0 || (elapsed < minSeconds * 1000 && calls < 1000)) {
    const t0 = performance.now();
    const got = await engine.searchBatch!(k);
    elapsed += performance.now() - t0;
    calls++;
    ids ??= got;
  }
  return { qps: (calls * nq) / (elapsed / 1000), recall: recallAtK(ids!, truth.ids, nq, k, truth.stride), calls };
}

/**
 * Recall and single-query QPS at each efSearch (one pass each), and the
 * smallest efSearch reaching `target` (or the largest swept, if none does).
 */
export async function sweepEfSearch(
  engine: AnnEngine,
  efs: number[],
  nq: number,
  k: number,
  truth: Truth,
  target: number,
  sweepSeconds: number,
  onPoint: (p: SweepPoint) => void,
): Promise<{ curve: SweepPoint[]; chosen: number; reached: boolean }> {
  const curve: SweepPoint[] = [];
  let chosen: number | null = null;
  for (const ef of efs) {
    await engine.setEfSearch!(ef);
    const mode = engine.searchOne ? 'sync' : 'async';
    // A warm-up pass (caches, page faults), then passes for at least sweepSeconds.
    await measureSingle(engine, mode, nq, k, truth, 0);
    const run = await measureSingle(engine, mode, nq, k, truth, sweepSeconds);
    const point = { efSearch: ef, recall: run.recall, qps: run.qps };
    curve.push(point);
    onPoint(point);
    if (chosen === null && run.recall >= target) chosen = ef;
  }
  return { curve, chosen: chosen ?? efs[efs.length - 1]!, reached: chosen !== null };
}
