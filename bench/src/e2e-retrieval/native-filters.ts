/**
 * Filtered queries on the native fast path against the JavaScript path (issue 14 §2), one shard
 * process, one store: k = 10 HNSW queries with filters from none to 1 % / 10 % / 20 % / 50 % of the
 * rows, over tcp:// (node:net, JavaScript answers), native+tcp:// with every frame handed to
 * JavaScript, and native+tcp:// answered on the loop thread (the native filter index and planner).
 * Each filter's recall@10 against the exact filtered answer, and whether both paths sent the same
 * ids, are printed beside its rows.
 *
 *   pnpm --filter @ragwire/bench e2e-native-filters [--n 20000] [--dim 128] [--seconds 3] [--markdown]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardClient } from '@ragwire/client';
import { gaussianMixture } from '@ragwire/datasets';
import type { Filter } from '@ragwire/protocol';
import { describeMachine, machineLine } from '../machine';
import { renderTable } from '../table';
import { measureLatency, measureThroughput } from './load';
import { killChildren, startChild, stopChild } from './processes';
import { argValue } from '../args';
import { datedResultsPath } from '../results';

const argv = process.argv.slice(2);
const arg = argValue(argv);
const N = Number(arg('n', '20000'));
const DIM = Number(arg('dim', '128'));
const SECONDS = Number(arg('seconds', '3'));
const markdown = argv.includes('--markdown');
const QUERIES = 1000;
const RECALL_QUERIES = 200;
const log = (s: string) => process.stderr.write(`${s}\n`);
process.on('exit', killChildren);

/** Row i's metadata: `bucket` 0..99 (1 % each), `half` (50 %), `lang`. */
const metadata = (i: number) => ({ bucket: i % 100, half: i % 2 === 0, lang: ['en', 'de', 'fr', 'ja'][i % 4]! });

const FILTERS: [string, Filter | undefined][] = [
  ['none', undefined],
  ['1 % (eq)', { must: [{ key: 'bucket', eq: 7 }] }],
  ['10 % (range)', { must: [{ key: 'bucket', range: { lt: 10 } }] }],
  ['20 % (range, must_not)', { must: [{ key: 'bucket', range: { gte: 20, lt: 60 } }], must_not: [{ key: 'half', eq: true }] }],
  ['50 % (eq bool)', { must: [{ key: 'half', eq: true }] }],
  [
    '50 % (should of in)',
    {
      should: [
        { key: 'lang', in: ['en', 'de'] },
        { key: 'bucket', eq: 3 },
      ],
    },
  ],
];

const machine = describeMachine();
log(machineLine(machine));
const dir = mkdtempSync(join(tmpdir(), 'ragwire-native-filters-'));
const shard = await startChild<{ tcp: string; nativeTcp: string; nativeTcpJs: string; pid: number }>(
  'shard-http.ts',
  [join(dir, 'data'), join(dir, 'shard.sock')],
  { RAGWIRE_THREADS: '1' },
);
const data = gaussianMixture({ n: N, nQueries: QUERIES, dim: DIM, clusters: 100, seed: 42 });
const loader = new ShardClient(shard.tcp, { timeoutMs: 120_000 });
await loader.createCollection({ collection: 'bench', dim: DIM, metric: 'l2', kind: 'hnsw', storage: 'f32', params: { M: 16, efConstruction: 100 } });
log(`loading ${N} x ${DIM} ...`);
for (let s = 0; s < N; s += 2000) {
  const e = Math.min(N, s + 2000);
  const ids = Array.from({ length: e - s }, (_, i) => `d${s + i}`);
  await loader.upsert({
    collection: 'bench',
    dim: DIM,
    ids,
    vectors: data.base.subarray(s * DIM, e * DIM),
    payloads: ids.map((_, i) => ({ metadata: metadata(s + i) })),
  });
}

const paths: [string, string][] = [
  ['tcp:// (JavaScript)', shard.tcp],
  ['native+tcp://, frames to JavaScript', shard.nativeTcpJs],
  ['native+tcp:// fast path', shard.nativeTcp],
];
const query = (client: ShardClient, filter: Filter | undefined, i: number, exact = false) =>
  client.query({
    collection: 'bench',
    dim: DIM,
    k: 10,
    vectors: data.queries.subarray((i % QUERIES) * DIM, ((i % QUERIES) + 1) * DIM),
    ...(filter ? { filter } : {}),
    options: exact ? { exact: true } : { efSearch: 64 },
  });

const clients = paths.map(([, url]) => new ShardClient(url, { timeoutMs: 60_000 }));
// Every path warmed up before any is measured (the shard's JIT and caches are shared).
for (const [p, client] of clients.entries()) {
  log(`warming up ${paths[p]![0]} ...`);
  for (const [, filter] of FILTERS) await measureLatency((i) => query(client, filter, i), 300);
}

const f = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const rows: string[][] = [];
const json: Record<string, unknown>[] = [];
for (const [name, filter] of FILTERS) {
  // Recall@10 against the exact filtered answer, and whether the fast path sent what JavaScript sent.
  let found = 0;
  let wanted = 0;
  let same = true;
  let exactPlan = false;
  for (let i = 0; i < RECALL_QUERIES; i++) {
    const truth = new Set((await query(clients[0]!, filter, i, true)).ids);
    const viaJs = await query(clients[0]!, filter, i);
    const viaNative = await query(clients[2]!, filter, i);
    if (viaJs.ids.join() !== viaNative.ids.join() || viaJs.exact !== viaNative.exact) same = false;
    exactPlan = viaNative.exact === true;
    found += viaNative.ids.filter((id) => truth.has(id)).length;
    wanted += truth.size;
  }
  const recall = wanted === 0 ? 1 : found / wanted;
  const results = [];
  for (const [p, client] of clients.entries()) {
    log(`${name} over ${paths[p]![0]} ...`);
    const latency = await measureLatency((i) => query(client, filter, i), 1000);
    const qps = await measureThroughput((i) => query(client, filter, i), 16, SECONDS);
    results.push({ path: paths[p]![0], p50Us: latency.p50Us, p99Us: latency.p99Us, qps: qps.qps });
  }
  const js = results[0]!;
  for (const r of results) {
    rows.push([name, exactPlan ? 'scan' : 'walk', r.path, f(r.p50Us, 1), f(r.p99Us, 1), f(r.qps), f(r.qps / js.qps, 2), f(recall, 3), same ? 'yes' : 'NO']);
  }
  json.push({ filter: name, plan: exactPlan ? 'scan' : 'walk', recallAt10: recall, sameAnswers: same, paths: results });
}
for (const c of clients) await c.close();
await loader.close();
await stopChild(shard.child);
rmSync(dir, { recursive: true, force: true });

const command = `pnpm --filter @ragwire/bench e2e-native-filters ${argv.join(' ')}`;
const table = renderTable(['filter', 'plan', 'path', 'p50 us', 'p99 us', 'QPS @16', 'QPS / tcp://', 'recall@10', 'same ids'], rows, markdown);
console.log(
  `\nmachine: ${machineLine(machine)}\ndata: gmm ${N} x ${DIM}, HNSW M=16 efConstruction=100, efSearch=64, k=10, 1 engine thread\ncommand: ${command}\n\n${table}\n`,
);

writeFileSync(
  datedResultsPath('e2e-native-filters'),
  JSON.stringify(
    {
      machine,
      command,
      data: { name: 'gmm', n: N, dim: DIM, clusters: 100, seed: 42, hnsw: { M: 16, efConstruction: 100, efSearch: 64 }, k: 10, engineThreads: 1 },
      rows: json,
    },
    null,
    2,
  ),
);
