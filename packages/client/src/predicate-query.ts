// A filter that runs in the client: a predicate over each candidate's payload (LangChain's
// MemoryVectorStore-style `(doc) => boolean`, LlamaIndex filters ragwire cannot express). The index
// cannot use it, so the query fetches candidates with their payloads and keeps those that pass,
// fetching 4x more while fewer than k pass and the collection may hold more: up to maxK (10,000)
// candidates, so a predicate rarer than k in 10,000 may return fewer than k. A declarative filter
// runs inside the index (an allow-list during the search) and is faster: prefer it when one exists.
import { DEFAULT_LIMITS, InvalidArgumentError, type Payload } from '@ragwire/protocol';
import type { ShardedCollection } from './sharded-collection';
import type { ShardedQuery, ShardedResult } from './sharded-query';

/** Whether a candidate passes: its id and stored payload. */
export type PayloadPredicate = (id: string, payload: Payload | null) => boolean;

/** The first fetch asks for max(k x FIRST_FETCH_FACTOR, 32) candidates. */
const FIRST_FETCH_FACTOR = 4;

/**
 * The best k hits of one query (`q.k`) among those `accept` passes. `fetches` reports how many
 * candidates each round asked for (the cost), when given.
 */
export async function queryWithPredicate(c: ShardedCollection, q: ShardedQuery, accept: PayloadPredicate, fetches?: number[]): Promise<ShardedResult> {
  const n = q.text?.length ?? q.sparse?.length ?? 1;
  if (n !== 1) throw new InvalidArgumentError('a predicate filter runs one query at a time');
  const maxK = DEFAULT_LIMITS.maxK;
  let fetch = Math.min(maxK, Math.max(q.k * FIRST_FETCH_FACTOR, 32));
  for (;;) {
    fetches?.push(fetch);
    const lexical = q.text !== undefined || q.sparse !== undefined;
    const r = await c.query({
      ...q,
      k: fetch,
      ...(lexical ? { prefetch: Math.max(fetch, q.prefetch ?? 0) } : {}),
      options: { ...q.options, withPayload: true },
    });
    const keep: number[] = [];
    for (let i = 0; i < r.ids.length && keep.length < q.k; i++) if (accept(r.ids[i]!, r.payloads?.[i] ?? null)) keep.push(i);
    const exhausted = r.ids.length < fetch || fetch >= maxK;
    if (keep.length >= q.k || exhausted) {
      const dim = r.vectors && r.ids.length > 0 ? r.vectors.length / r.ids.length : 0;
      const out: ShardedResult = {
        k: q.k,
        counts: Uint32Array.of(keep.length),
        ids: keep.map((i) => r.ids[i]!),
        scores: Float32Array.from(keep, (i) => r.scores[i]!),
        partial: r.partial,
        missingShards: r.missingShards,
      };
      if (r.exact !== undefined) out.exact = r.exact;
      if (q.options?.withPayload) out.payloads = keep.map((i) => r.payloads![i] ?? null);
      if (r.vectors) {
        out.vectors = new Float32Array(keep.length * dim);
        keep.forEach((i, j) => {
          out.vectors!.set(r.vectors!.subarray(i * dim, (i + 1) * dim), j * dim);
        });
      }
      return out;
    }
    fetch = Math.min(maxK, fetch * 4);
  }
}
