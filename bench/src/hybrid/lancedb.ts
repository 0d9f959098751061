// LanceDB (@lancedb/lancedb, in-process) on the same SciFact data: its full-text index (BM25 over
// title + text, English stems and stop words like ragwire's), its vector search (flat: 5,183 rows
// need no IVF index; cosine), and its hybrid query reranked by its RRFReranker (k 60).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scifact } from '@ragwire/datasets';
import type { Mode, Runner } from './types';

export async function lancedbRunner(data: Scifact): Promise<Runner | string> {
  let lancedb: typeof import('@lancedb/lancedb');
  process.env.RUST_LOG ??= 'error'; // lance warns on every query that selects columns without _score
  try {
    lancedb = await import('@lancedb/lancedb');
  } catch (error) {
    return `LanceDB did not load: ${(error as Error).message}`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lancedb-bench-hybrid-'));
  const db = await lancedb.connect(dir);
  const started = performance.now();
  const rows = data.docs.map((d, i) => ({
    id: d.id,
    text: `${d.title} ${d.text}`,
    vector: Array.from(data.docVectors.subarray(i * data.dim, (i + 1) * data.dim)),
  }));
  const table = await db.createTable('scifact', rows);
  await table.createIndex('text', { config: lancedb.Index.fts({ language: 'English', stem: true, removeStopWords: true, lowercase: true }) });
  const ingestMs = performance.now() - started;
  const rrf = await lancedb.rerankers.RRFReranker.create(60);
  const vector = (i: number) => Array.from(data.queryVectors.subarray(i * data.dim, (i + 1) * data.dim));
  const ids = (rows: Record<string, unknown>[]) => rows.map((r) => String(r.id));
  const modes: Mode[] = [
    { name: 'dense (flat)', search: async (i, k) => ids(await table.query().nearestTo(vector(i)).distanceType('cosine').select(['id']).limit(k).toArray()) },
    { name: 'BM25 (FTS)', search: async (i, k) => ids(await table.query().fullTextSearch(data.queries[i]!.text).select(['id']).limit(k).toArray()) },
    {
      name: 'hybrid RRF (k 60)',
      search: async (i, k) =>
        ids(
          await table.query().fullTextSearch(data.queries[i]!.text).nearestTo(vector(i)).distanceType('cosine').rerank(rrf).select(['id']).limit(k).toArray(),
        ),
    },
  ];
  return {
    engine: 'lancedb',
    ingestMs,
    modes,
    async close() {
      table.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
