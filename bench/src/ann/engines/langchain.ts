import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { Document } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import type { Metric } from '@ragwire/datasets';
import type { AnnEngine, EngineConfig } from './engine';
import { MISSING } from './engine';

/** The store is handed vectors directly; embedding text never happens here. */
class NoEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  embedDocuments(): Promise<number[][]> {
    return Promise.reject(new Error('the benchmark adds vectors, not texts'));
  }
  embedQuery(): Promise<number[]> {
    return Promise.reject(new Error('the benchmark searches by vector'));
  }
}

type Similarity = (a: number[], b: number[]) => number;

const SIMILARITY: Record<Exclude<Metric, 'cosine'>, Similarity> = {
  l2: (a, b) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
    return -s;
  },
  ip: (a, b) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  },
  l1: (a, b) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
    return -s;
  },
};

/** LangChain's MemoryVectorStore: exact search in JS, one query per call. Cosine uses its default similarity. */
export class LangchainEngine implements AnnEngine {
  readonly name = 'langchain-memory';
  readonly exact = true;
  readonly memorySource = 'none';
  #store: MemoryVectorStore;
  #config: EngineConfig;
  #queries: number[][] = [];

  constructor(config: EngineConfig) {
    this.#config = config;
    this.#store = new MemoryVectorStore(new NoEmbeddings(), config.metric === 'cosine' ? {} : { similarity: SIMILARITY[config.metric] });
  }

  async build(base: Float32Array, n: number, onProgress: (rowsDone: number) => void): Promise<void> {
    const dim = this.#config.dim;
    const chunk = 10_000;
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      const vectors: number[][] = [];
      const docs: Document[] = [];
      for (let i = start; i < end; i++) {
        vectors.push(Array.from(base.subarray(i * dim, (i + 1) * dim)));
        docs.push(new Document({ pageContent: '', metadata: { row: i } }));
      }
      await this.#store.addVectors(vectors, docs);
      onProgress(end);
    }
  }

  memoryBytes(): null {
    return null;
  }

  prepareQueries(queries: Float32Array, nq: number): void {
    const dim = this.#config.dim;
    this.#queries = Array.from({ length: nq }, (_, i) => Array.from(queries.subarray(i * dim, (i + 1) * dim)));
  }

  searchOneAsync(i: number, k: number): Promise<[Document, number][]> {
    return this.#store.similaritySearchVectorWithScore(this.#queries[i]!, k);
  }

  ids(raw: unknown, k: number, out: Uint32Array, offset: number): void {
    const hits = raw as [Document, number][];
    for (let j = 0; j < k; j++) out[offset + j] = j < hits.length ? (hits[j]![0].metadata.row as number) : MISSING;
  }

  close(): void {
    this.#store = undefined as unknown as MemoryVectorStore;
  }
}
