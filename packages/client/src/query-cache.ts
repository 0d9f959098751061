// The exact query-result cache: identical query, identical answer, until a write.
import { createHash } from 'node:crypto';
import type { Filter, QueryOptions } from '@ragwire/protocol';

export interface QueryCacheOptions {
  /** Most results kept. Default 1024. */
  maxEntries?: number;
}

/** A least-recently-used map from a query's key to its result (a Map keeps insertion order). */
export class QueryCache<V> {
  readonly maxEntries: number;
  private readonly entries = new Map<string, V>();
  hits = 0;
  misses = 0;

  constructor(options: QueryCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1024;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError(`cache maxEntries must be a positive integer, got ${this.maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * The cache key of a query: collection, a SHA-1 of the vectors' bytes (so 1.5 KB of floats
 * becomes 20 bytes), k, the filter's JSON and the options' JSON (property order counts).
 */
export function queryCacheKey(collection: string, vectors: Float32Array, k: number, filter?: Filter, options?: QueryOptions): string {
  const digest = createHash('sha1')
    .update(new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength))
    .digest('base64');
  return `${collection}\u0000${digest}\u0000${vectors.length}\u0000${k}\u0000${filter ? JSON.stringify(filter) : ''}\u0000${options ? JSON.stringify(options) : ''}`;
}
