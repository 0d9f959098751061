/**
 * The transports side by side (issue 14 §5), a short run: a 64-byte round trip between two
 * processes over a bare Node TCP echo and over ucx:// (UCX picks shared memory on one host unless
 * UCX_TLS says otherwise), then one shard's k = 10 HNSW query at one client and at 16 over tcp://,
 * native+tcp:// (TCP read by the native data plane's thread) with every frame handed to JavaScript and
 * with the plane's fast path (the query answered on the loop thread, no JavaScript), unix:// and
 * ucx://; beside them the engine's own search time for the same queries in the shard process.
 *
 *   pnpm --filter @ragwire/bench e2e-transports [--n 20000] [--dim 384] [--seconds 3] [--markdown]
 *   UCX_TLS=tcp pnpm --filter @ragwire/bench e2e-transports      (UCX over its tcp transport)
 *   RAGWIRE_POLL=1 ...                                             (native data-plane threads never sleep)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardClient } from '@ragwire/client';
import { gaussianMixture } from '@ragwire/datasets';
import { transports } from '@ragwire/native';
import { describeMachine, machineLine } from '../machine';
import { renderTable } from '../table';
import { echoLatency, measureLatency, measureThroughput, ucxEchoLatency, type LatencyReport } from './load';
import { killChildren, startChild, stopChild } from './processes';
import { argValue } from '../args';
import { datedResultsPath } from '../results';

const argv = process.argv.slice(2);
const arg = argValue(argv);
const N = Number(arg('n', '20000'));
const DIM = Number(arg('dim', '384'));
const SECONDS = Number(arg('seconds', '3'));
const markdown = argv.includes('--markdown');
const log = (s: string) => process.stderr.write(`${s}\n`);
process.on('exit', killChildren);

const ucx = transports().ucx;
const tls = process.env.UCX_TLS ?? 'default';
const machine = describeMachine();
log(machineLine(machine));
if (!ucx.available) log(`ucx:// unavailable (${ucx.error}): tcp and unix rows only`);

// 64-byte round trips.
const echo = await startChild<{ port: number; ucxPort?: number; pid: number }>('echo-server.ts', []);
log('64-byte echo over node:net ...');
const tcpEcho = await echoLatency(echo.port, 5000);
log('64-byte echo over ucx:// ...');
const ucxEcho = echo.ucxPort ? await ucxEchoLatency(echo.ucxPort, 5000) : undefined;
await stopChild(echo.child);

// One shard, k = 10, HNSW at efSearch 64.
const dir = mkdtempSync(join(tmpdir(), 'ragwire-transports-'));
const shard = await startChild<{ tcp: string; unix: string; nativeTcp: string; nativeTcpJs: string; ucx?: string; http: string; pid: number }>(
  'shard-http.ts',
  [join(dir, 'data'), join(dir, 'shard.sock')],
  {
    RAGWIRE_THREADS: '1',
  },
);
const data = gaussianMixture({ n: N, nQueries: 1000, dim: DIM, clusters: 100, seed: 42 });
const loader = new ShardClient(shard.tcp, { timeoutMs: 120_000 });
await loader.createCollection({ collection: 'bench', dim: DIM, metric: 'l2', kind: 'hnsw', storage: 'f32', params: { M: 16, efConstruction: 100 } });
log(`loading ${N} x ${DIM} ...`);
for (let s = 0; s < N; s += 2000) {
  const e = Math.min(N, s + 2000);
  await loader.upsert({
    collection: 'bench',
    dim: DIM,
    ids: Array.from({ length: e - s }, (_, i) => `d${s + i}`),
    vectors: data.base.subarray(s * DIM, e * DIM),
  });
}
await loader.close();

const urls: [string, string | undefined][] = [
  ['tcp://', shard.tcp],
  ['native+tcp:// (native epoll thread, frames to JS)', shard.nativeTcpJs],
  ['native+tcp:// fast path (answered on the loop thread)', shard.nativeTcp],
  ['unix://', shard.unix],
  [`ucx:// (UCX_TLS=${tls})`, shard.ucx],
];
const rows: string[][] = [];
const f = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const echoRow = (name: string, r: LatencyReport) => [name, f(r.p50Us, 1), f(r.p99Us, 1), f(r.p50Us / tcpEcho.p50Us, 2), '-'];
rows.push(echoRow('64 B echo, node:net TCP', tcpEcho));
if (ucxEcho) rows.push(echoRow(`64 B echo, ucx:// (UCX_TLS=${tls})`, ucxEcho));
const caller = (client: ShardClient) => (i: number) =>
  client.query({ collection: 'bench', dim: DIM, k: 10, vectors: data.queries.subarray((i % 1000) * DIM, ((i % 1000) + 1) * DIM), options: { efSearch: 64 } });
// Every path warmed up before any is measured (the shard's JIT and caches are shared): the first row
// measured would otherwise pay for all of them.
for (const [name, url] of urls) {
  if (url === undefined) continue;
  log(`warming up ${name} ...`);
  const client = new ShardClient(url, { timeoutMs: 60_000 });
  await measureLatency(caller(client), 1000);
  await measureThroughput(caller(client), 16, 1);
  await client.close();
}
for (const [name, url] of urls) {
  if (url === undefined) continue;
  const client = new ShardClient(url, { timeoutMs: 60_000 });
  const call = caller(client);
  log(`1 shard query over ${name} ...`);
  const latency = await measureLatency(call, 2000);
  const qps = await measureThroughput(call, 16, SECONDS);
  rows.push([`1 shard k=10 query, ${name}`, f(latency.p50Us, 1), f(latency.p99Us, 1), f(latency.p50Us / tcpEcho.p50Us, 2), f(qps.qps)]);
  await client.close();
}
// The engine's own time for the same queries, in the shard process (searchSync, no wire).
const engine = (await (
  await fetch(`${shard.http}/collections/bench/engine-latency`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ vectors: [...data.queries.subarray(0, 1000 * DIM)], k: 10, efSearch: 64 }),
  })
).json()) as { p50Us: number; p99Us: number };
rows.push(['engine search alone (searchSync in the shard, 1000 queries)', f(engine.p50Us, 1), f(engine.p99Us, 1), f(engine.p50Us / tcpEcho.p50Us, 2), '-']);
await stopChild(shard.child);
rmSync(dir, { recursive: true, force: true });

const table = renderTable(['path (2 processes, loopback)', 'p50 us', 'p99 us', 'p50 / TCP echo', 'QPS @16'], rows, markdown);
console.log(
  `\nmachine: ${machineLine(machine)}\ndata: gmm ${N} x ${DIM}, HNSW M=16 efConstruction=100, efSearch=64, 1 engine thread\ncommand: ${process.env.UCX_TLS ? `UCX_TLS=${tls} ` : ''}pnpm --filter @ragwire/bench e2e-transports ${argv.join(' ')}\n\n${table}\n`,
);

writeFileSync(
  datedResultsPath('e2e-transports'),
  JSON.stringify(
    {
      machine,
      command: `pnpm --filter @ragwire/bench e2e-transports ${argv.join(' ')}`,
      ucxTls: tls,
      data: { name: 'gmm', n: N, dim: DIM, clusters: 100, seed: 42, hnsw: { M: 16, efConstruction: 100, efSearch: 64 }, k: 10, engineThreads: 1 },
      columns: ['path', 'p50Us', 'p99Us', 'p50OverTcpEcho', 'qpsAt16'],
      rows,
    },
    null,
    2,
  ),
);
