/**
 * BEIR SciFact in the shared data folder (`scifact/`, see its README): 5,183 abstracts, 150 test
 * queries with relevance judgments, and 512-d embeddings of both (cosine). Evaluation data only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataDir } from './shared-data';
import { readRawFloat32File } from './texmex';

export interface ScifactDoc {
  id: string;
  title: string;
  text: string;
}

export interface Scifact {
  docs: ScifactDoc[];
  queries: { id: string; text: string }[];
  /** query id -> relevant doc ids (every judgment has grade 1). */
  qrels: Map<string, Set<string>>;
  dim: number;
  /** docs.length x dim, rows in `docs` order. */
  docVectors: Float32Array;
  /** queries.length x dim, rows in `queries` order. */
  queryVectors: Float32Array;
}

const DIM = 512;
const FILES = ['corpus.jsonl', 'queries.jsonl', 'qrels.tsv', 'corpus.use-lite-512.f32', 'queries.use-lite-512.f32', 'corpus_ids.json', 'queries_ids.json'];

function jsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** The set, documents and queries in the embeddings' row order; null when the folder or a file is absent. */
export function loadScifact(): Scifact | null {
  const root = sharedDataDir();
  if (root === null) return null;
  const dir = join(root, 'scifact');
  if (!FILES.every((f) => existsSync(join(dir, f)))) return null;
  const byId = new Map(jsonl<{ _id: string; title: string; text: string }>(join(dir, 'corpus.jsonl')).map((d) => [d._id, d]));
  const queryText = new Map(jsonl<{ _id: string; text: string }>(join(dir, 'queries.jsonl')).map((q) => [q._id, q.text]));
  const docIds = JSON.parse(readFileSync(join(dir, 'corpus_ids.json'), 'utf8')) as string[];
  const queryIds = JSON.parse(readFileSync(join(dir, 'queries_ids.json'), 'utf8')) as string[];
  const qrels = new Map<string, Set<string>>();
  for (const line of readFileSync(join(dir, 'qrels.tsv'), 'utf8').split('\n').slice(1)) {
    const [q, d, score] = line.split('\t');
    if (!q || !d || Number(score) <= 0) continue;
    if (!qrels.has(q)) qrels.set(q, new Set());
    qrels.get(q)!.add(d);
  }
  return {
    docs: docIds.map((id) => {
      const d = byId.get(id)!;
      return { id, title: d.title, text: d.text };
    }),
    queries: queryIds.map((id) => ({ id, text: queryText.get(id)! })),
    qrels,
    dim: DIM,
    docVectors: readRawFloat32File(join(dir, 'corpus.use-lite-512.f32'), DIM),
    queryVectors: readRawFloat32File(join(dir, 'queries.use-lite-512.f32'), DIM),
  };
}

/** nDCG@k with binary relevance (BEIR / trec_eval's ndcg_cut). */
export function ndcgAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) if (relevant.has(ranked[i]!)) dcg += 1 / Math.log2(i + 2);
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** Share of the relevant documents found in the first k. */
export function recallAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  let found = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) if (relevant.has(ranked[i]!)) found++;
  return found / relevant.size;
}
