// Filtered search at 1%, 10% and 50% selectivity on bigann10k and bge-m3 sentences: recall@10 against
// brute force over the allowed rows, and QPS (one query at a time), with the filter planner (an
// allow-list under the exact-scan size is scanned) beside the graph walk alone (exactScanBytes 0:
// how every filtered query ran before the planner). Default HNSW settings. Prints a table, writes JSON.
// Usage: pnpm --filter @ragwire/bench filtered [--markdown]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bruteForceTopK, loadBgeM3Sentence, loadBigann10k, type Dataset } from '@ragwire/datasets';
import { openStore } from '@ragwire/store';
import { describeMachine, machineLine } from '../machine';
import { renderTable } from '../table';

const K = 10;
const SELECTIVITIES = [0.01, 0.1, 0.5];
const markdown = process.argv.includes('--markdown');
const rows: string[][] = [];
const results: Record<string, unknown>[] = [];
console.log(`machine: ${machineLine(describeMachine())}`);

for (const load of [loadBigann10k, loadBgeM3Sentence]) {
  const d: Dataset | null = load();
  if (d === null) {
    console.log(`SKIPPED: ${load.name}: the data set is absent from ../shared/data`);
    continue;
  }
  for (const [planner, exactScanBytes] of [
    ['planner', undefined],
    ['graph walk only', 0],
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-filtered-'));
    const store = await openStore({ path: dir, ...(exactScanBytes !== undefined ? { exactScanBytes } : {}) });
    await store.createCollection({ name: d.name, dim: d.dim, metric: d.metric });
    const c = store.collection(d.name);
    const ids = Array.from({ length: d.nBase }, (_, i) => `r${i}`);
    await c.upsert({ ids, vectors: d.base, payloads: ids.map((_, i) => ({ metadata: { bucket: i % 100 } })) });
    for (const s of SELECTIVITIES) {
      const p = Math.round(s * 100);
      const filter = { must: [{ key: 'bucket', range: { lt: p } }] };
      const truth = bruteForceTopK(d.base, d.queries, d.dim, K, d.metric, (row) => row % 100 < p);
      let found = 0;
      let expected = 0;
      let exact = true;
      const started = performance.now();
      for (let q = 0; q < d.nQueries; q++) {
        const r = await c.query({ vectors: d.queries.subarray(q * d.dim, (q + 1) * d.dim), k: K, filter });
        exact &&= r.exact === true;
        const want = new Set(
          Array.from(truth.labels.subarray(q * K, (q + 1) * K))
            .filter((row) => row < d.nBase)
            .map((row) => `r${row}`),
        );
        expected += want.size;
        for (const id of r.ids) if (want.has(id)) found++;
      }
      const qps = d.nQueries / ((performance.now() - started) / 1000);
      const recall = found / expected;
      results.push({ data: d.name, planner, selectivity: s, recall, qps, exact });
      rows.push([d.name, planner, `${p}%`, recall.toFixed(4), qps.toFixed(0), exact ? 'scan' : 'walk']);
    }
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(renderTable(['data', 'path', 'selectivity', 'recall@10', 'QPS', 'search'], rows, markdown));
const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results', `filtered-${new Date().toISOString().slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ machine: describeMachine(), k: K, results }, null, 2));
console.log(`wrote ${out}`);
