// Fleet apply benchmark (issue 13 §8): how fast a shard's store takes a collection's write log. A backlog
// of N 384-d vectors, written through JetStream (R1: one nats-server node, R3: a 3-node cluster) as
// upserts of 100 random ids (~95 messages of about one vector: one per bucket touched), is replayed into
// an empty store by the LogApplier (the shard server's applier, over the shard server's store target),
// applying the messages one by one and in groups, beside the same batches upserted into a store
// directly. The store and applier run in this process; nats-server runs as child processes on loopback.
// Usage: pnpm --filter @ragwire/bench fleet-replay [vectors] [hnsw|flat]   (default 10000 hnsw)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LogApplier, WriteLog, connectNats } from '@ragwire/fleet';
import { killAllProcesses, startNats, startNatsCluster } from '@ragwire/processes';
import { storeApplyTarget } from '@ragwire/shard-server';
import { openStore } from '@ragwire/store';
import { describeMachine, machineLine } from '../machine';
import { fmt } from '../stats';
import { renderTable } from '../table';

const here = dirname(fileURLToPath(import.meta.url));
const DIM = 384;
const N = Number(process.argv[2] ?? 10_000);
const KIND = (process.argv[3] ?? 'hnsw') as 'hnsw' | 'flat';
const BATCH = 100;
const COLLECTION = 'replay';
/** Messages per store write when grouped: the applier's default. */
const GROUP = 128;

function randomVectors(n: number): Float32Array {
  const v = new Float32Array(n * DIM);
  for (let i = 0; i < v.length; i++) v[i] = Math.random() - 0.5;
  return v;
}

const batches = Array.from({ length: Math.ceil(N / BATCH) }, (_, b) => {
  const ids = Array.from({ length: Math.min(BATCH, N - b * BATCH) }, (_, i) => `d${b * BATCH + i}`);
  return { ids, vectors: randomVectors(ids.length) };
});

interface Row {
  mode: string;
  messages: number;
  storeWrites: number;
  seconds: number;
  vectorsPerSecond: number;
}

const spec = { name: COLLECTION, dim: DIM, metric: 'cosine', kind: KIND, storage: 'f32' } as const;

async function direct(): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-replay-'));
  const store = await openStore({ path: dir });
  await store.createCollection(spec);
  const c = store.collection(COLLECTION);
  const t0 = performance.now();
  for (const b of batches) await c.upsert(b);
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { mode: 'direct upserts of 100', messages: 0, storeWrites: batches.length, seconds, vectorsPerSecond: N / seconds };
}

/** Replays the stream into an empty store; `group` messages per store write at most. */
async function replay(urls: string[], replicas: number, last: number, group: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-replay-'));
  const store = await openStore({ path: dir });
  const target = storeApplyTarget(store);
  let storeWrites = 0;
  const counted = {
    ...target,
    apply: (...args: Parameters<typeof target.apply>) => (storeWrites++, target.apply(...args)),
    applyGroup: (...args: Parameters<typeof target.applyGroup>) => (storeWrites++, target.applyGroup(...args)),
  };
  const nc = await connectNats({ servers: urls });
  const problems: unknown[] = [];
  const applier = new LogApplier({ connection: nc, member: 'replay', target: counted, group: { messages: group }, onProblem: (e) => problems.push(e) });
  const t0 = performance.now();
  await applier.start();
  while (!((applier.states()[0]?.processed ?? 0) >= last)) await sleep(5);
  const seconds = (performance.now() - t0) / 1000;
  const count = store.collection(COLLECTION).info().count;
  await applier.close();
  await nc.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (count !== N || problems.length > 0) throw new Error(`replay applied ${count} of ${N} documents, ${problems.length} problems: ${String(problems[0])}`);
  const mode = `R${replicas} log, ${group === 1 ? 'one by one' : `in groups of <= ${group}`}`;
  console.error(`${mode}: ${fmt(N / seconds)} vectors/s`);
  return { mode, messages: last, storeWrites, seconds, vectorsPerSecond: N / seconds };
}

const rows: Row[] = [];
try {
  rows.push(await direct());
  console.error(`${rows[0]!.mode}: ${fmt(rows[0]!.vectorsPerSecond)} vectors/s`);
  for (const replicas of [1, 3] as const) {
    const nats = replicas === 1 ? await startNats() : await startNatsCluster();
    const urls = 'urls' in nats ? nats.urls : [nats.url];
    const log = await WriteLog.connect({ servers: urls, replicas });
    await log.register({ collection: COLLECTION, dim: DIM, metric: spec.metric, kind: KIND, storage: 'f32' });
    for (const b of batches) await log.appendUpsert(COLLECTION, { dim: DIM, ...b });
    const last = await log.lastSeq(COLLECTION);
    // Alternated, twice each: the shared machine's load drifts during a run.
    for (const group of [1, GROUP, 1, GROUP]) rows.push(await replay(urls, replicas, last, group));
    await log.close();
    await nats.cleanup();
  }
} finally {
  killAllProcesses();
}

const direct0 = rows[0]!;
const table = renderTable(
  ['applied as', 'log messages', 'store writes', 'seconds', 'applied vectors/s', 'x direct', 'x one by one (same run pair)'],
  rows.map((r, i) => {
    // Each grouped replay beside the one-by-one replay just before it.
    const pair = r.mode.includes('groups') ? rows[i - 1]! : undefined;
    return [
      r.mode,
      r.messages ? fmt(r.messages) : '-',
      fmt(r.storeWrites),
      fmt(r.seconds, 2),
      fmt(r.vectorsPerSecond),
      fmt(r.vectorsPerSecond / direct0.vectorsPerSecond, 2),
      pair ? fmt(r.vectorsPerSecond / pair.vectorsPerSecond, 2) : '-',
    ];
  }),
  true,
);
const machine = describeMachine();
console.log(
  `${machineLine(machine)}\n${N} x ${DIM}-d f32 vectors in upserts of ${BATCH} random ids; ${KIND}; replayed from the stream's start into an empty store (LogApplier and store in one process); nats-server on loopback\n\n${table}`,
);
const out = join(here, '../../results');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, `fleet-replay-${new Date().toISOString().slice(0, 10)}-${KIND}.json`),
  JSON.stringify({ machine, vectors: N, dim: DIM, kind: KIND, batch: BATCH, group: GROUP, rows }, null, 2),
);
