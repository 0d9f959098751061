import { createIndex, loadIndex, type Index, type IndexOptions, type SearchResult } from '@ragwire/native';
import type { AnnEngine, EngineConfig } from './engine';

/**
 * ragwire's embedded hnsw index, M and efConstruction as configured; `storage` f16 or sq8 walks the
 * graph on those codes and reranks the beam on f32 (named ragwire-f16, ragwire-sq8). With
 * `vectorsPath` the f32 rows live in that mapped file (vectors 'disk', named ragwire-sq8-disk); with
 * `inlineCodes` layer 0 keeps its neighbours' codes beside each link list (named ragwire-sq8-inline).
 */
export class RagwireEngine implements AnnEngine {
  readonly name: string;
  readonly exact = false;
  readonly memorySource = 'stats().memoryBytes';
  #index: Index;
  #queries: Float32Array = new Float32Array(0);
  #dim: number;
  #ef = 64;

  constructor(
    config: EngineConfig,
    chunkRows: number,
    { storage = 'f32', vectorsPath, inlineCodes = false }: { storage?: NonNullable<IndexOptions['storage']>; vectorsPath?: string; inlineCodes?: boolean } = {},
  ) {
    this.name = (storage === 'f32' ? 'ragwire' : `ragwire-${storage}`) + (vectorsPath ? '-disk' : '') + (inlineCodes ? '-inline' : '');
    this.#dim = config.dim;
    this.#chunkRows = chunkRows;
    this.#index = createIndex({
      dim: config.dim,
      metric: config.metric,
      kind: 'hnsw',
      storage,
      hnsw: { M: config.M, efConstruction: config.efConstruction, seed: config.seed, ...(inlineCodes ? { inlineCodes } : {}) },
      ...(vectorsPath ? { vectors: 'disk' as const, vectorsPath } : {}),
    });
  }

  #chunkRows: number;

  async build(base: Float32Array, n: number, onProgress: (rowsDone: number) => void): Promise<void> {
    const labels = new Uint32Array(n);
    for (let i = 0; i < n; i++) labels[i] = i;
    for (let start = 0; start < n; start += this.#chunkRows) {
      const end = Math.min(n, start + this.#chunkRows);
      await this.#index.add(labels.subarray(start, end), base.subarray(start * this.#dim, end * this.#dim));
      onProgress(end);
    }
  }

  memoryBytes(): number {
    return this.#index.stats().memoryBytes;
  }

  /** Bytes of f32 rows in the mapped vector file (0 in memory). */
  mappedBytes(): number {
    return this.#index.stats().mappedBytes;
  }

  prepareQueries(queries: Float32Array): void {
    this.#queries = queries;
  }

  setEfSearch(ef: number): void {
    this.#ef = ef;
  }

  #query(i: number): Float32Array {
    return this.#queries.subarray(i * this.#dim, (i + 1) * this.#dim);
  }

  searchOne(i: number, k: number): SearchResult {
    return this.#index.searchSync(this.#query(i), k, { efSearch: this.#ef });
  }

  searchOneAsync(i: number, k: number): Promise<SearchResult> {
    return this.#index.search(this.#query(i), k, { efSearch: this.#ef });
  }

  ids(raw: unknown, k: number, out: Uint32Array, offset: number): void {
    out.set((raw as SearchResult).labels.subarray(0, k), offset);
  }

  async searchBatch(k: number): Promise<Uint32Array> {
    return (await this.#index.search(this.#queries, k, { efSearch: this.#ef })).labels;
  }

  save(snapshot: string): Promise<void> {
    return this.#index.save(snapshot);
  }

  /**
   * Closes the index and opens it again from `snapshot` (saved by save()), as a restarted server would:
   * with vectors on disk the process then holds none of the file's pages until a search reads them.
   */
  async reopen(snapshot: string): Promise<void> {
    this.#index.close();
    this.#index = await loadIndex(snapshot);
  }

  close(): void {
    this.#index.close();
  }
}
