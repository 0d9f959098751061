// What the store already holds of a file: which of its chunks are present, and whether older ones linger.
// The store is the only record: no manifest beside it, so shards and embedded stores behave alike.
import type { ShardedCollection } from '@ragwire/client';
import { hasCode, DEFAULT_LIMITS, type Filter } from '@ragwire/protocol';
import type { Chunk } from './chunks';

/** What a file needs: the indices of chunks to embed and write, and whether old chunks must go. */
export interface FilePlan {
  missing: number[];
  /** Chunks of this source with another ingest_key are stored (an older version of the file). */
  stale: boolean;
}

/** Every chunk of `source`, whatever its version. */
export function sourceFilter(source: string): Filter {
  return { must: [{ key: 'source', eq: source }] };
}

/** The chunks of `source` that belong to another version than `key`. */
export function staleFilter(source: string, key: string): Filter {
  return { must: [{ key: 'source', eq: source }], must_not: [{ key: 'ingest_key', eq: key }] };
}

const probes = new Map<number, Float32Array>();

/** Any fixed vector does for a filtered exact query: only which documents match matters. */
function probe(dim: number): Float32Array {
  let v = probes.get(dim);
  if (v === undefined) {
    v = new Float32Array(dim);
    v[0] = 1;
    probes.set(dim, v);
  }
  return v;
}

/** Ids of up to `k` documents matching `filter`, by exact search: with k >= the matches, all of them. */
async function matchingIds(c: ShardedCollection, dim: number, filter: Filter, k: number): Promise<string[]> {
  try {
    const r = await c.query({ vectors: probe(dim), k, filter, options: { exact: true } });
    return r.ids;
  } catch (error) {
    if (hasCode(error, 'RAGWIRE_ERR_UNKNOWN_COLLECTION')) return [];
    throw error;
  }
}

/** Indices of the chunks stored under `key`, asked in windows of chunk indices that fit in one query's k. */
async function presentIndices(
  c: ShardedCollection,
  dim: number,
  source: string,
  key: string,
  ids: Map<string, number>,
  n: number,
  maxK: number,
): Promise<Set<number>> {
  const present = new Set<number>();
  for (let from = 0; from < n; from += maxK) {
    const to = Math.min(n, from + maxK);
    const filter: Filter = {
      must: [
        { key: 'source', eq: source },
        { key: 'ingest_key', eq: key },
        { key: 'chunk', range: { gte: from, lt: to } },
      ],
    };
    for (const id of await matchingIds(c, dim, filter, to - from)) {
      const i = ids.get(id);
      if (i !== undefined) present.add(i);
    }
  }
  return present;
}

/**
 * Compares a file's chunks with what the collection holds. `dim` undefined means the collection
 * does not exist yet: everything is missing. Usually one exact query, filtered on the source and
 * asked for one more hit than the file has chunks: if it returns exactly the file's ids, the file
 * is unchanged. Otherwise a second look (by ingest_key) finds which chunks are present. A file
 * with more chunks than one query may return (`maxK`, the protocol's 10000) is looked at in windows.
 */
export async function planFile(
  c: ShardedCollection,
  dim: number | undefined,
  source: string,
  key: string,
  chunks: readonly Chunk[],
  maxK: number = DEFAULT_LIMITS.maxK,
): Promise<FilePlan> {
  const n = chunks.length;
  if (dim === undefined) return { missing: chunks.map((_, i) => i), stale: false };
  if (n === 0) return { missing: [], stale: (await matchingIds(c, dim, sourceFilter(source), 1)).length > 0 };
  const ids = new Map(chunks.map((chunk, i) => [chunk.id, i]));
  let present: Set<number>;
  let stale: boolean;
  if (n + 1 <= maxK) {
    const hits = await matchingIds(c, dim, sourceFilter(source), n + 1);
    present = new Set();
    let others = 0;
    for (const id of hits) {
      const i = ids.get(id);
      if (i === undefined) others++;
      else present.add(i);
    }
    stale = others > 0;
    // n + 1 hits: more chunks of this source are stored than the file has, so some are stale and
    // some of the file's own may be beyond the first n + 1: look again by key.
    if (hits.length > n) present = await presentIndices(c, dim, source, key, ids, n, maxK);
  } else {
    present = await presentIndices(c, dim, source, key, ids, n, maxK);
    stale = (await matchingIds(c, dim, staleFilter(source, key), 1)).length > 0;
  }
  const missing: number[] = [];
  for (let i = 0; i < n; i++) if (!present.has(i)) missing.push(i);
  return { missing, stale };
}

/** Removes the chunks of `source` that belong to another version than `key`; resolves with how many. */
export async function deleteStale(c: ShardedCollection, source: string, key: string): Promise<number> {
  const { deleted } = await c.delete({ filter: staleFilter(source, key) });
  return deleted;
}
