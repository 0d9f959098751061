import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import type { AnnEngine, EngineConfig, ResumableBuild } from './engine';
import { MISSING } from './engine';

type Hnsw = InstanceType<typeof hnswlib.HierarchicalNSW>;
interface Knn {
  neighbors: number[];
}

/**
 * hnswlib-node 3.x: one point per addPoint call (as number[]), on the JS thread;
 * searchKnn is its only search (one query, synchronous).
 */
export class HnswlibEngine implements AnnEngine, ResumableBuild {
  readonly name = 'hnswlib-node';
  readonly exact = false;
  readonly memorySource = 'writeIndexSync size';
  #index: Hnsw;
  #config: EngineConfig;
  #queries: number[][] = [];

  constructor(config: EngineConfig) {
    if (config.metric === 'l1') throw new Error('hnswlib-node has no L1 space');
    this.#config = config;
    this.#index = new hnswlib.HierarchicalNSW(config.metric, config.dim);
  }

  async build(base: Float32Array, n: number, onProgress: (rowsDone: number) => void): Promise<void> {
    await this.buildRange(base, n, 0, onProgress, () => false);
  }

  /** A chunk is a hundredth of n; a resumed build draws its levels from a fresh generator (hnswlib saves none). */
  async buildRange(base: Float32Array, n: number, from: number, onProgress: (rowsDone: number) => void, pause: () => boolean): Promise<number> {
    const { dim, M, efConstruction, seed } = this.#config;
    if (from === 0) this.#index.initIndex(n, M, efConstruction, seed);
    const every = Math.max(1, Math.floor(n / 100));
    for (let i = from; i < n; i++) {
      this.#index.addPoint(Array.from(base.subarray(i * dim, (i + 1) * dim)), i);
      if (i % every === every - 1 && i + 1 < n) {
        onProgress(i + 1);
        // Let a progress bar redraw; hnswlib-node has no asynchronous add.
        await new Promise<void>((r) => setImmediate(r));
        if (pause()) return i + 1;
      }
    }
    onProgress(n);
    return n;
  }

  saveBuild(file: string): void {
    this.#index.writeIndexSync(file);
  }

  loadBuild(file: string): void {
    this.#index.readIndexSync(file);
  }

  memoryBytes(): number {
    const dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-hnswlib-'));
    try {
      const file = join(dir, 'index.bin');
      this.#index.writeIndexSync(file);
      return statSync(file).size;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  prepareQueries(queries: Float32Array, nq: number): void {
    const dim = this.#config.dim;
    this.#queries = Array.from({ length: nq }, (_, i) => Array.from(queries.subarray(i * dim, (i + 1) * dim)));
  }

  setEfSearch(ef: number): void {
    this.#index.setEf(ef);
  }

  searchOne(i: number, k: number): Knn {
    return this.#index.searchKnn(this.#queries[i]!, k);
  }

  ids(raw: unknown, k: number, out: Uint32Array, offset: number): void {
    const { neighbors } = raw as Knn;
    for (let j = 0; j < k; j++) out[offset + j] = j < neighbors.length ? neighbors[j]! : MISSING;
  }

  close(): void {
    // hnswlib-node frees its index when the object is collected.
    this.#index = undefined as unknown as Hnsw;
  }
}
