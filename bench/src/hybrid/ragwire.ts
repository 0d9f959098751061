// ragwire on SciFact: one embedded store (in-process), dense / BM25 / hybrid queries, one at a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scifact } from '@ragwire/datasets';
import type { Fusion, TextSettings } from '@ragwire/protocol';
import { openStore } from '@ragwire/store';
import type { Mode, Runner } from './types';

export interface RagwireModes {
  text: TextSettings;
  /** Weighted fusion's dense weight. */
  alpha: number;
}

export async function ragwireRunner(data: Scifact, settings: RagwireModes): Promise<Runner> {
  const dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-hybrid-'));
  const store = await openStore({ path: dir });
  await store.createCollection({ name: 'scifact', dim: data.dim, metric: 'cosine', kind: 'hnsw', text: settings.text });
  const c = store.collection('scifact');
  const started = performance.now();
  const BATCH = 1000;
  for (let at = 0; at < data.docs.length; at += BATCH) {
    const docs = data.docs.slice(at, at + BATCH);
    await c.upsert({
      ids: docs.map((d) => d.id),
      vectors: data.docVectors.subarray(at * data.dim, (at + docs.length) * data.dim),
      payloads: docs.map((d) => ({ text: `${d.title} ${d.text}` })),
    });
  }
  const ingestMs = performance.now() - started;
  const none = new Float32Array(0);
  const vector = (i: number) => data.queryVectors.subarray(i * data.dim, (i + 1) * data.dim);
  const hybrid = (fusion: Fusion) => async (i: number, k: number) =>
    (await c.query({ vectors: vector(i), text: [data.queries[i]!.text], k, fusion, prefetch: Math.max(k, 100) })).ids;
  const modes: Mode[] = [
    { name: 'dense (HNSW)', search: async (i, k) => (await c.query({ vectors: vector(i), k })).ids },
    { name: 'BM25', search: async (i, k) => (await c.query({ vectors: none, text: [data.queries[i]!.text], k })).ids },
    { name: 'hybrid RRF (k 60)', search: hybrid({ method: 'rrf' }) },
    { name: `hybrid weighted (alpha ${settings.alpha})`, search: hybrid({ method: 'weighted', alpha: settings.alpha }) },
    { name: 'hybrid DBSF', search: hybrid({ method: 'dbsf' }) },
  ];
  return {
    engine: 'ragwire',
    ingestMs,
    modes,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
