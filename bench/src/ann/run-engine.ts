/** One engine on one data set: build, memory, efSearch sweep, timed runs at the chosen efSearch. */
import type { VectorSet } from '@ragwire/datasets';
import { startProgress } from '../progress';
import { MiB, rssBytes, settleMemory } from '../stats';
import type { AnnEngine, EngineConfig, EngineName } from './engines/engine';
import { HnswlibEngine } from './engines/hnswlib';
import { LangchainEngine } from './engines/langchain';
import { RagwireEngine } from './engines/ragwire';
import { UsearchEngine } from './engines/usearch';
import { measureBatch, measureSingle, sweepEfSearch, type BatchRun, type SingleRun, type SweepPoint, type Truth } from './measure';

export interface EngineResult {
  engine: string;
  exact: boolean;
  skipped?: string;
  buildSeconds?: number;
  rssDeltaMiB?: number;
  engineMiB?: number | null;
  memorySource?: string;
  efSearch?: number | null;
  reachedTarget?: boolean;
  curve?: SweepPoint[];
  /** One query per call on the calling thread (searchSync, searchKnn, usearch search with 1 thread). */
  single?: SingleRun | null;
  /** One query per call through the engine's async path (ragwire search, LangChain). */
  singleAsync?: SingleRun | null;
  /** All queries in one call. */
  batch?: BatchRun | null;
}

export interface RunOptions {
  k: number;
  target: number;
  efs: number[];
  minSeconds: number;
  /** Time budget for an exact JS engine's pass over the queries. */
  exactBudgetSeconds: number;
  M: number;
  efConstruction: number;
  seed: number;
}

function makeEngine(name: EngineName, config: EngineConfig, chunkRows: number): AnnEngine {
  switch (name) {
    case 'ragwire':
      return new RagwireEngine(config, chunkRows);
    case 'ragwire-f16':
      return new RagwireEngine(config, chunkRows, { storage: 'f16' });
    case 'ragwire-sq8':
      return new RagwireEngine(config, chunkRows, { storage: 'sq8' });
    case 'ragwire-sq8-inline':
      return new RagwireEngine(config, chunkRows, { storage: 'sq8', inlineCodes: true });
    case 'usearch':
      return new UsearchEngine(config, chunkRows);
    case 'hnswlib':
      return new HnswlibEngine(config);
    case 'langchain':
      return new LangchainEngine(config);
  }
}

export async function runEngine(name: EngineName, set: VectorSet, truth: Truth, opts: RunOptions): Promise<EngineResult> {
  const { k, minSeconds } = opts;
  const config: EngineConfig = { dim: set.dim, metric: set.metric, M: opts.M, efConstruction: opts.efConstruction, seed: opts.seed };
  const chunkRows = Math.max(10_000, Math.ceil(set.nBase / 20));
  await settleMemory();
  const rss0 = rssBytes();
  const engine = makeEngine(name, config, chunkRows);
  try {
    const bar = startProgress(`${engine.name}: build`, set.nBase);
    const t0 = performance.now();
    await engine.build(set.base, set.nBase, (done) => bar.update(done));
    const buildSeconds = (performance.now() - t0) / 1000;
    bar.stop();
    await settleMemory();
    const rssDeltaMiB = (rssBytes() - rss0) / MiB;
    const engineBytes = engine.memoryBytes();
    engine.prepareQueries(set.queries, set.nQueries);
    const result: EngineResult = {
      engine: engine.name,
      exact: engine.exact,
      buildSeconds,
      rssDeltaMiB,
      engineMiB: engineBytes === null ? null : engineBytes / MiB,
      memorySource: engine.memorySource,
    };

    if (engine.exact) {
      const p = startProgress(`${engine.name}: exact queries`, 1);
      result.singleAsync = await measureSingle(engine, 'async', set.nQueries, k, truth, 0, opts.exactBudgetSeconds);
      p.stop();
      result.efSearch = null;
      return result;
    }

    const sweepBar = startProgress(`${engine.name}: efSearch sweep`, opts.efs.length);
    let points = 0;
    const sweep = await sweepEfSearch(engine, opts.efs, set.nQueries, k, truth, opts.target, opts.minSeconds / 5, () => sweepBar.update(++points));
    sweepBar.stop();
    Object.assign(result, { efSearch: sweep.chosen, reachedTarget: sweep.reached, curve: sweep.curve });

    const timed = startProgress(`${engine.name}: timed at efSearch ${sweep.chosen}`, 3);
    await engine.setEfSearch!(sweep.chosen, true);
    result.single = engine.searchOne ? await measureSingle(engine, 'sync', set.nQueries, k, truth, minSeconds) : null;
    timed.update(1);
    result.singleAsync = engine.searchOneAsync ? await measureSingle(engine, 'async', set.nQueries, k, truth, minSeconds) : null;
    timed.update(2);
    result.batch = engine.searchBatch ? await measureBatch(engine, set.nQueries, k, truth, minSeconds) : null;
    timed.stop();
    return result;
  } finally {
    engine.close();
    await settleMemory();
  }
}
