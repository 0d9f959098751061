// A fleet member answers a query routed by a shard-map epoch with the documents of the buckets its shard
// holds at that epoch only: during a rebalance a bucket's documents sit on its old and its new owner
// (docs/operations.md "Rebalancing a fleet"), and each must be counted once.
import type { ResultReply } from '@ragwire/protocol';

/** The hits at indices `keep` (ascending), `counts[q]` of them for query q. */
function pick(reply: ResultReply, counts: Uint32Array, keep: number[], k: number): ResultReply {
  const out: ResultReply = { ...reply, k, counts, ids: keep.map((i) => reply.ids[i]!), scores: Float32Array.from(keep, (i) => reply.scores[i]!) };
  if (reply.payloads) out.payloads = keep.map((i) => reply.payloads![i]!);
  if (reply.vectors) {
    const dim = reply.ids.length === 0 ? 0 : reply.vectors.length / reply.ids.length;
    const vectors = new Float32Array(keep.length * dim);
    keep.forEach((i, j) => vectors.set(reply.vectors!.subarray(i * dim, (i + 1) * dim), j * dim));
    out.vectors = vectors;
  }
  return out;
}

/**
 * Keeps at most `k` hits per query among those for which `served` is true, in order. `truncated`: some
 * query's list was full and lost hits, so more of ours may lie below it.
 */
export function servedHits(reply: ResultReply, served: (id: string) => boolean, k: number): { reply: ResultReply; truncated: boolean } {
  const keep: number[] = [];
  const counts = new Uint32Array(reply.counts.length);
  let truncated = false;
  let at = 0;
  reply.counts.forEach((n, q) => {
    let dropped = false;
    for (let i = at; i < at + n; i++) {
      if (!served(reply.ids[i]!)) dropped = true;
      else if (counts[q]! < k) {
        keep.push(i);
        counts[q]!++;
      }
    }
    if (dropped && n >= reply.k && counts[q]! < k) truncated = true;
    at += n;
  });
  if (keep.length === reply.ids.length && reply.k === k) return { reply, truncated };
  return { reply: pick(reply, counts, keep, k), truncated };
}

/**
 * Asks `answer` for `k` hits per query and keeps the served ones; while a full list lost hits, asks again
 * for twice as many (up to `maxK`).
 */
export async function answerServed(
  answer: (k: number) => Promise<ResultReply>,
  k: number,
  maxK: number,
  served: (id: string) => boolean,
): Promise<ResultReply> {
  for (let ask = k; ; ask = Math.min(maxK, ask * 2)) {
    const { reply, truncated } = servedHits(await answer(ask), served, k);
    if (!truncated || ask >= maxK) return reply;
  }
}
