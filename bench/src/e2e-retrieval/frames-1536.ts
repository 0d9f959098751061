import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardClient } from '@ragwire/client';
import { gaussianMixture } from '@ragwire/datasets';
import { transports } from '@ragwire/native';
import { describeMachine, machineLine } from '../machine';
import { renderTable } from '../table';
import { measureLatency } from './load';
import { killChildren, pinToCore, startChild, stopChild } from './processes';
import { argValue } from '../args';
import { datedResultsPath } from '../results';

process.env.UCX_TLS ??= 'sm,self';
const argv = process.argv.slice(2);
const arg = argValue(argv);
const DIM = 1536;
const PER_FRAME = 1000;
const FRAMES = Number(arg('frames', '60'));
const pin = argv.includes('--pin');
const markdown = argv.includes('--markdown');
const log = (s: string) => process.stderr.write(`${s}\n`);
process.on('exit', killChildren);

const machine = describeMachine();
log(machineLine(machine));
const root = mkdtempSync(join(tmpdir(), 'ragwire-frames-1536-'));
const data = gaussianMixture({ n: PER_FRAME, nQueries: PER_FRAME, dim: DIM, clusters: 100, seed: 42 });
const frameBytes = PER_FRAME * DIM * 4;

type Shard = { tcp: string; nativeTcp: string; ucx?: string; pid: number };
const shard = await startChild<Shard>('shard-http.ts', [join(root, 'data'), join(root, 'shard.sock')], { RAGWIRE_THREADS: '1' });
if (pin) {
  pinToCore(shard.pid, 1);
  pinToCore(process.pid, 0);
}
const setup = new ShardClient(shard.tcp, { timeoutMs: 120_000 });
await setup.createCollection({ collection: 'up', dim: DIM, metric: 'l2', kind: 'flat', storage: 'f32' });
await setup.createCollection({ collection: 'one', dim: DIM, metric: 'l2', kind: 'flat', storage: 'f32' });
await setup.upsert({ collection: 'one', dim: DIM, ids: ['only'], vectors: data.base.subarray(0, DIM) });
await setup.close();

const ids = Array.from({ length: PER_FRAME }, (_, i) => `d${i}`);
const paths: [string, string | undefined][] = [
  ['tcp://', shard.tcp],
  ['native+tcp://', shard.nativeTcp],
  [`ucx:// (UCX_TLS=${process.env.UCX_TLS})`, transports().ucx.available ? shard.ucx : undefined],
];
const f = (v: number, d = 0) => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const rows: string[][] = [];
const results: Record<string, unknown>[] = [];
const tcpMs: Record<string, number> = {};
for (const [name, url] of paths) {
  if (url === undefined) continue;
  const client = new ShardClient(url, { timeoutMs: 120_000 });
  const frames: [string, (i: number) => Promise<unknown>][] = [
    ['upsert', () => client.upsert({ collection: 'up', dim: DIM, ids, vectors: data.base })],
    ['batched query, k=1', () => client.query({ collection: 'one', dim: DIM, k: 1, vectors: data.queries })],
  ];
  for (const [kind, call] of frames) {
    log(`${name} ${kind} ...`);
    const latency = await measureLatency(call, FRAMES, 5);
    const ms = latency.p50Us / 1000;
    tcpMs[kind] ??= ms;
    const gbPerS = frameBytes / (ms / 1000) / 1e9;
    rows.push([`${kind}, ${name}`, f(ms, 2), f(latency.p99Us / 1000, 2), f(gbPerS, 2), f(PER_FRAME / (ms / 1000)), f(tcpMs[kind]! / ms, 2)]);
    results.push({ path: name, frame: kind, latency, gbPerS, vectorsPerS: PER_FRAME / (ms / 1000) });
  }
  await client.close();
}
await stopChild(shard.child);
rmSync(root, { recursive: true, force: true });

const table = renderTable(['1,000 x 1536-d frame, 1 shard', 'p50 ms', 'p99 ms', 'GB/s (request)', 'vectors/s', 'tcp:// p50 / this'], rows, markdown);
const pinning = pin ? 'shard on core 1, client on core 0 (taskset)' : 'not pinned';
const command = `pnpm --filter @ragwire/bench e2e-frames-1536 ${argv.join(' ')}`;
console.log(
  `\nmachine: ${machineLine(machine)}\ndata: gmm 1000 x 1536 and 1000 queries, seed 42; frame ${f(frameBytes)} bytes of vectors; ${FRAMES} frames a row; ${pinning}\ncommand: ${command}\n\n${table}\n`,
);
writeFileSync(
  datedResultsPath('e2e-frames-1536'),
  JSON.stringify({ machine, command, pinning, ucxTls: process.env.UCX_TLS, dim: DIM, perFrame: PER_FRAME, frames: FRAMES, frameBytes, results }, null, 2),
);
