// docs/search.md §3: text and hybrid queries over N shards, answered exactly as one store answers.
// BM25 needs global statistics: one STATS round trip (to one replica of each shard) sums N, the
// tokens and the query terms' document frequencies; each shard then scores its documents with
// them, so the shards' BM25 lists merge into the one store's list. Fusion needs global ranks:
// each branch (dense, text, sparse) is asked from every shard as its own query, merged, then the
// branches are fused here by the same fuseRanked a store uses; each hit keeps the payload and
// stored vector its branches fetched, as a store returns them. Cost: one extra round trip for a
// query with text (the dense and sparse branches overlap it), and up to 3 QUERY frames per shard.
import { branchDepth, byScoreThenId, fuseRanked, resolveFusion, type Payload, type RankedList, type TextStats } from '@ragwire/protocol';
import type { ShardedQuery, ShardedResult } from './sharded-query';

/** What a hybrid query asks of a sharded collection: merged single-branch queries and global BM25 statistics. */
interface BranchQuerier {
  query(q: ShardedQuery): Promise<ShardedResult>;
  textStats(texts: string[]): Promise<TextStats>;
}

/** True when a query over `shards` shards must be split into branches and fused here. */
export function needsClientFusion(q: ShardedQuery, shards: number): boolean {
  if (shards < 2) return false;
  const branches = (q.vectors.length > 0 ? 1 : 0) + (q.text ? 1 : 0) + (q.sparse ? 1 : 0);
  return branches > 1 || (q.text !== undefined && q.textStats === undefined);
}

interface Branch {
  branch: RankedList['branch'];
  result: ShardedResult;
}

/** Runs each branch over every shard, then fuses per query (see the file comment). */
export async function hybridQuery(sc: BranchQuerier, q: ShardedQuery): Promise<ShardedResult> {
  const branches = (q.vectors.length > 0 ? 1 : 0) + (q.text ? 1 : 0) + (q.sparse ? 1 : 0);
  const depth = branches === 1 ? q.k : branchDepth(q.k, q.prefetch);
  const common = { k: depth, ...(q.filter ? { filter: q.filter } : {}), ...(q.options ? { options: q.options } : {}), ...(q.trace ? { trace: q.trace } : {}) };
  const none = new Float32Array(0);
  const pending: Promise<Branch>[] = [];
  if (q.vectors.length > 0) pending.push(sc.query({ ...common, vectors: q.vectors }).then((result) => ({ branch: 'dense', result })));
  if (q.text) {
    const text = q.text;
    pending.push(
      (q.textStats ? Promise.resolve(q.textStats) : sc.textStats(text))
        .then((textStats) => sc.query({ ...common, vectors: none, text, textStats }))
        .then((result) => ({ branch: 'text', result })),
    );
  }
  if (q.sparse) pending.push(sc.query({ ...common, vectors: none, sparse: q.sparse }).then((result) => ({ branch: 'sparse', result })));
  const results = await Promise.all(pending);
  const fusion = resolveFusion(q.fusion);
  const n = results[0]!.result.counts.length;
  const counts = new Uint32Array(n);
  const ids: string[] = [];
  const scores: number[] = [];
  const withPayloads = results.every((b) => b.result.payloads !== undefined);
  const withVectors = results.every((b) => b.result.vectors !== undefined);
  const dim = withVectors ? vectorDim(results.map((b) => b.result)) : 0;
  const payloads: (Payload | null)[] = [];
  const vectors: Float32Array[] = [];
  const offsets = results.map(() => 0);
  for (let i = 0; i < n; i++) {
    const lists = results.map((b, j) => {
      const list = slice(b.result, offsets[j]!, b.result.counts[i]!, dim);
      offsets[j]! += b.result.counts[i]!;
      return { ...list, branch: b.branch };
    });
    const top = branches === 1 ? { ids: lists[0]!.ids.slice(0, q.k), scores: lists[0]!.scores.slice(0, q.k) } : fuseRanked(lists, fusion, q.k);
    counts[i] = top.ids.length;
    ids.push(...top.ids);
    scores.push(...top.scores);
    // A document found by several branches carries the same stored payload and vector in each.
    const byId = new Map<string, Row>();
    for (const l of lists) for (const row of l.rows) byId.set(row.id, row);
    for (const id of top.ids) {
      const row = byId.get(id)!;
      if (withPayloads) payloads.push(row.payload);
      if (withVectors) vectors.push(row.vector!);
    }
  }
  const missing = [...new Set(results.flatMap((b) => b.result.missingShards))].sort((a, b) => a - b);
  const out: ShardedResult = { k: q.k, counts, ids, scores: Float32Array.from(scores), partial: missing.length > 0, missingShards: missing };
  if (withPayloads) out.payloads = payloads;
  if (withVectors) {
    out.vectors = new Float32Array(vectors.length * dim);
    vectors.forEach((v, j) => {
      out.vectors!.set(v, j * dim);
    });
  }
  if (results.some((b) => b.result.exact !== undefined)) out.exact = results.every((b) => b.result.exact === true);
  return out;
}

interface Row {
  id: string;
  score: number;
  payload: Payload | null;
  vector: Float32Array | undefined;
}

/** One query's hits of a merged result, re-ordered by (score, id) as a store orders its branches. */
function slice(r: ShardedResult, at: number, count: number, dim: number): { ids: string[]; scores: number[]; rows: Row[] } {
  const rows = Array.from(
    { length: count },
    (_, j): Row => ({
      id: r.ids[at + j]!,
      score: r.scores[at + j]!,
      payload: r.payloads?.[at + j] ?? null,
      vector: r.vectors?.subarray((at + j) * dim, (at + j + 1) * dim),
    }),
  );
  rows.sort(byScoreThenId);
  return { ids: rows.map((x) => x.id), scores: rows.map((x) => x.score), rows };
}

/** The stored vectors' dimension, from any branch with hits (0 when none has any). */
function vectorDim(results: readonly ShardedResult[]): number {
  for (const r of results) if (r.ids.length > 0) return r.vectors!.length / r.ids.length;
  return 0;
}
