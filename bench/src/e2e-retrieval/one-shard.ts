import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardClient } from '@ragwire/client';
import { gaussianMixture } from '@ragwire/datasets';
import { transports } from '@ragwire/native';
import { describeMachine, machineLine } from '../machine';
import { renderTable } from '../table';
import { echoLatency, measureLatency, measureThroughput } from './load';
import { killChildren, pinToCore, startChild, stopChild } from './processes';
import { argValue } from '../args';
import { datedResultsPath } from '../results';

const argv = process.argv.slice(2);
const arg = argValue(argv);
const N = Number(arg('n', '1000000'));
const DIM = Number(arg('dim', '384'));
const CLIENTS = Number(arg('clients', '100'));
const SECONDS = Number(arg('seconds', '5'));
const EF = 64;
const RECALL_QUERIES = 200;
const pin = argv.includes('--pin');
const markdown = argv.includes('--markdown');
const log = (s: string) => process.stderr.write(`${s}\n`);
process.on('exit', killChildren);

const machine = describeMachine();
log(machineLine(machine));
const kept = arg('data', '');
const root = kept || mkdtempSync(join(tmpdir(), 'ragwire-one-shard-'));
mkdirSync(root, { recursive: true });
const dataDir = join(root, 'data');
const loaded = kept !== '' && existsSync(join(root, `loaded-${N}x${DIM}`));
const data = gaussianMixture({ n: N, nQueries: 1000, dim: DIM, clusters: 1000, seed: 42 });

type Shard = { tcp: string; nativeTcp: string; ucx?: string; http: string; pid: number };
const startShard = (threads: string) => startChild<Shard>('shard-http.ts', [dataDir, join(root, 'shard.sock')], { RAGWIRE_THREADS: threads });

if (!loaded) {
  // Loaded with both engine threads, then reopened with one for the measurement.
  log(`loading ${N} x ${DIM} (HNSW M=16 efConstruction=100) ...`);
  const loader = await startShard('2');
  const client = new ShardClient(loader.tcp, { timeoutMs: 600_000 });
  await client.createCollection({ collection: 'bench', dim: DIM, metric: 'l2', kind: 'hnsw', storage: 'f32', params: { M: 16, efConstruction: 100 } });
  const t0 = performance.now();
  for (let s = 0; s < N; s += 5000) {
    const e = Math.min(N, s + 5000);
    await client.upsert({
      collection: 'bench',
      dim: DIM,
      ids: Array.from({ length: e - s }, (_, i) => `d${s + i}`),
      vectors: data.base.subarray(s * DIM, e * DIM),
    });
    if ((e / 5000) % 20 === 0) log(`  ${e} rows, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  await client.close();
  await stopChild(loader.child);
  if (kept) writeFileSync(join(root, `loaded-${N}x${DIM}`), '');
}

const shard = await startShard('1');
if (pin) {
  pinToCore(shard.pid, 1);
  pinToCore(process.pid, 0);
}
const query = (i: number) => data.queries.subarray((i % 1000) * DIM, ((i % 1000) + 1) * DIM);

// Exact answers for the recall column, through the JavaScript path.
log('exact answers for recall ...');
const exactClient = new ShardClient(shard.tcp, { timeoutMs: 600_000 });
const truth: string[][] = [];
for (let i = 0; i < RECALL_QUERIES; i++)
  truth.push((await exactClient.query({ collection: 'bench', dim: DIM, k: 10, vectors: query(i), options: { exact: true } })).ids);
await exactClient.close();

log('64-byte Node TCP echo ...');
const echo = await startChild<{ port: number; pid: number }>('echo-server.ts', []);
if (pin) pinToCore(echo.pid, 1);
const tcpEcho = await echoLatency(echo.port, 5000);
await stopChild(echo.child);

const post = async <T>(path: string, body: unknown): Promise<T> =>
  (await (await fetch(`${shard.http}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as T;
const firstQueries = [...data.queries.subarray(0, 1000 * DIM)];
const engineOne = await post<{ p50Us: number; p99Us: number }>('/collections/bench/engine-latency', { vectors: firstQueries, k: 10, efSearch: EF });
const engineBatch = await post<{ qps: number }>('/collections/bench/engine-batch', { vectors: firstQueries, k: 10, efSearch: EF, rounds: 5 });
const floorUs = engineOne.p50Us + tcpEcho.p50Us;

const paths: [string, string | undefined][] = [
  ['tcp:// (JavaScript answers)', shard.tcp],
  ['native+tcp:// (answered on the loop thread)', shard.nativeTcp],
  [`ucx:// (answered on the progress thread, UCX_TLS=${process.env.UCX_TLS ?? 'default'})`, transports().ucx.available ? shard.ucx : undefined],
];
const f = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const rows: string[][] = [];
const results: Record<string, unknown>[] = [];
for (const [name, url] of paths) {
  if (url === undefined) continue;
  const client = new ShardClient(url, { timeoutMs: 60_000 });
  const call = (i: number) => client.query({ collection: 'bench', dim: DIM, k: 10, vectors: query(i), options: { efSearch: EF } });
  log(`${name} ...`);
  let hits = 0;
  for (let i = 0; i < RECALL_QUERIES; i++) {
    const got = new Set((await call(i)).ids);
    hits += truth[i]!.filter((id) => got.has(id)).length;
  }
  const recall = hits / (RECALL_QUERIES * 10);
  const latency = await measureLatency(call, 3000, 1000);
  const qps = await measureThroughput(call, CLIENTS, SECONDS);
  rows.push([name, f(latency.p50Us, 1), f(latency.p99Us, 1), f(latency.p50Us / floorUs, 2), f(qps.qps), f(qps.qps / engineBatch.qps, 2), recall.toFixed(3)]);
  results.push({ path: name, latency, throughput: qps, recall });
  await client.close();
}
rows.push(['engine search alone, one query at a time (searchSync, shard process)', f(engineOne.p50Us, 1), f(engineOne.p99Us, 1), '-', '-', '-', '-']);
rows.push(['engine batched search, 1000 queries a batch (shard process)', '-', '-', '-', f(engineBatch.qps), '1.00', '-']);
rows.push(['64 B Node TCP echo (a client wake-up)', f(tcpEcho.p50Us, 1), f(tcpEcho.p99Us, 1), '-', '-', '-', '-']);
await stopChild(shard.child);
if (!kept) rmSync(root, { recursive: true, force: true });

const table = renderTable(
  ['path (1 shard, k=10, efSearch 64)', 'p50 us', 'p99 us', 'p50 / (engine + echo)', `QPS @${CLIENTS}`, 'QPS / engine batch', 'recall@10'],
  rows,
  markdown,
);
const pinning = pin ? 'shard (engine, loop and progress threads) on core 1, clients on core 0 (taskset)' : 'not pinned';
console.log(
  `\nmachine: ${machineLine(machine)}\ndata: gmm ${N} x ${DIM}, 1000 clusters, seed 42, HNSW M=16 efConstruction=100, efSearch=${EF}, 1 engine thread; ${pinning}\ncommand: pnpm --filter @ragwire/bench e2e-one-shard ${argv.join(' ')}\n\n${table}\n`,
);
writeFileSync(
  datedResultsPath('e2e-one-shard'),
  JSON.stringify(
    {
      machine,
      command: `pnpm --filter @ragwire/bench e2e-one-shard ${argv.join(' ')}`,
      pinning,
      n: N,
      dim: DIM,
      efSearch: EF,
      clients: CLIENTS,
      tcpEcho,
      engineOne,
      engineBatch,
      results,
    },
    null,
    2,
  ),
);
