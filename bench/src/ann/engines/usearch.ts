import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Index, MetricKind, ScalarKind, type BatchMatches, type Matches } from 'usearch';
import type { Metric } from '@ragwire/datasets';
import type { AnnEngine, EngineConfig, ResumableBuild } from './engine';
import { MISSING } from './engine';

const METRICS: Record<Metric, MetricKind | null> = { l2: MetricKind.L2sq, ip: MetricKind.IP, cosine: MetricKind.Cos, l1: null };

/**
 * usearch 2.26 (f32, multi-threaded add and batch search). Its JS API fixes
 * expansion_search at construction, so each efSearch re-opens the saved graph
 * in a new Index: mapped (view) during the sweep, loaded into memory for the
 * timed runs.
 */
export class UsearchEngine implements AnnEngine, ResumableBuild {
  readonly name = 'usearch';
  readonly exact = false;
  readonly memorySource = 'saved index size';
  #config: EngineConfig;
  #metric: MetricKind;
  #index: Index;
  #dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-usearch-'));
  #file = join(this.#dir, 'index.usearch');
  #queries: Float32Array = new Float32Array(0);
  #chunkRows: number;

  constructor(config: EngineConfig, chunkRows: number) {
    const metric = METRICS[config.metric];
    if (metric === null) throw new Error('usearch has no L1 metric');
    this.#config = config;
    this.#metric = metric;
    this.#chunkRows = chunkRows;
    this.#index = this.#open(64);
  }

  #open(ef: number): Index {
    const { dim, M, efConstruction } = this.#config;
    return new Index({
      dimensions: dim,
      metric: this.#metric,
      quantization: ScalarKind.F32,
      connectivity: M,
      expansion_add: efConstruction,
      expansion_search: ef,
      multi: false,
    });
  }

  async build(base: Float32Array, n: number, onProgress: (rowsDone: number) => void): Promise<void> {
    await this.buildRange(base, n, 0, onProgress, () => false);
  }

  async buildRange(base: Float32Array, n: number, from: number, onProgress: (rowsDone: number) => void, pause: () => boolean): Promise<number> {
    const dim = this.#config.dim;
    for (let start = from; start < n; start += this.#chunkRows) {
      const end = Math.min(n, start + this.#chunkRows);
      const keys = new BigUint64Array(end - start);
      for (let i = start; i < end; i++) keys[i - start] = BigInt(i);
      this.#index.add(keys, base.subarray(start * dim, end * dim), 0);
      onProgress(end);
      await new Promise<void>((r) => setImmediate(r));
      if (end < n && pause()) return end;
    }
    return n;
  }

  saveBuild(file: string): void {
    this.#index.save(file);
  }

  loadBuild(file: string): void {
    this.#index = this.#open(64);
    this.#index.load(file);
  }

  #saved = false;

  /** Saving is not part of the build time: it happens on first need, after timing. */
  #ensureSaved(): void {
    if (this.#saved) return;
    this.#index.save(this.#file);
    this.#saved = true;
  }

  memoryBytes(): number {
    this.#ensureSaved();
    return statSync(this.#file).size;
  }

  prepareQueries(queries: Float32Array): void {
    this.#queries = queries;
  }

  /** `resident`: load the graph into memory (timed runs) rather than map it (sweep). */
  setEfSearch(ef: number, resident = false): void {
    this.#ensureSaved();
    const next = this.#open(ef);
    if (resident) next.load(this.#file);
    else next.view(this.#file);
    this.#index = next;
    collect();
  }

  searchOne(i: number, k: number): Matches {
    const dim = this.#config.dim;
    return this.#index.search(this.#queries.subarray(i * dim, (i + 1) * dim), k, 1);
  }

  ids(raw: unknown, k: number, out: Uint32Array, offset: number): void {
    const { keys } = raw as Matches;
    for (let j = 0; j < k; j++) out[offset + j] = j < keys.length ? Number(keys[j]!) : MISSING;
  }

  async searchBatch(k: number): Promise<Uint32Array> {
    const r = this.#index.search(this.#queries, k, 0) as unknown as BatchMatches;
    const nq = this.#queries.length / this.#config.dim;
    const out = new Uint32Array(nq * k).fill(MISSING);
    for (let q = 0; q < nq; q++) {
      const count = Number(r.counts[q]!);
      for (let j = 0; j < count; j++) out[q * k + j] = Number(r.keys[q * r.k + j]!);
    }
    return out;
  }

  close(): void {
    this.#index = undefined as unknown as Index;
    collect();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
