// Hybrid search quality and speed on BEIR SciFact (../shared/data/scifact): nDCG@10 and recall@100 of
// dense, BM25 and hybrid retrieval, with queries per second, ragwire beside LanceDB in one run.
// Prints a table and writes bench/results/hybrid-<date>.json. Usage: pnpm --filter @ragwire/bench hybrid [--passes 3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScifact } from '@ragwire/datasets';
import { describeMachine, machineLine } from '../machine';
import { renderTable } from '../table';
import { evaluate, type ModeResult } from './evaluate';
import { lancedbRunner } from './lancedb';
import { ragwireRunner } from './ragwire';
import type { Runner } from './types';

const args = process.argv.slice(2);
const passes = Number(args[args.indexOf('--passes') + 1] ?? 3) || 3;
const markdown = args.includes('--markdown');
const ALPHA = 0.1;

const data = loadScifact();
if (data === null) {
  console.log('SKIPPED: ../shared/data/scifact is absent (see ../shared/data/README.md)');
  process.exit(0);
}
const machine = describeMachine();
console.log(`machine: ${machineLine(machine)}`);
console.log(
  `data: BEIR SciFact test (shared/data/scifact): ${data.docs.length} abstracts (title + text), ${data.queries.length} queries, ${data.dim}-d USE-lite embeddings (cosine)`,
);
console.log(`speed: one query at a time, k 10, ${passes} passes after a quality pass at k 100`);

const results: ModeResult[] = [];
const ingest: Record<string, number> = {};
const notes: string[] = [];
const runners: (() => Promise<Runner | string>)[] = [
  () => ragwireRunner(data, { text: { language: 'en', k1: 0.9, b: 0.4 }, alpha: ALPHA }),
  () => lancedbRunner(data),
];
for (const make of runners) {
  const runner = await make();
  if (typeof runner === 'string') {
    notes.push(runner);
    console.log(runner);
    continue;
  }
  ingest[runner.engine] = runner.ingestMs;
  for (const mode of runner.modes) {
    const r = await evaluate(runner.engine, mode, data, passes);
    results.push(r);
    console.log(`  ${r.engine} ${r.mode}: nDCG@10 ${r.ndcg10.toFixed(4)}, recall@100 ${r.recall100.toFixed(4)}, ${r.qps.toFixed(0)} QPS`);
  }
  await runner.close();
}

console.log('');
console.log(
  renderTable(
    ['engine', 'mode', 'nDCG@10', 'recall@100', 'QPS', 'p50 ms'],
    results.map((r) => [r.engine, r.mode, r.ndcg10.toFixed(4), r.recall100.toFixed(4), r.qps.toFixed(0), r.p50Ms.toFixed(3)]),
    markdown,
  ),
);
console.log(
  `ingest (documents + indexes): ${Object.entries(ingest)
    .map(([e, ms]) => `${e} ${(ms / 1000).toFixed(2)} s`)
    .join(', ')}`,
);

const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results', `hybrid-${new Date().toISOString().slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      machine,
      data: { name: 'BEIR SciFact test (half)', docs: data.docs.length, queries: data.queries.length, dim: data.dim },
      passes,
      alpha: ALPHA,
      ingestMs: ingest,
      results,
      notes,
    },
    null,
    2,
  ),
);
console.log(`wrote ${out}`);
