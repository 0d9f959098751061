// Fleet benchmark (issue 13 §8), one run: write throughput and acknowledgement latency of 384-d
// upserts written directly to a shard server vs through JetStream at R1 (one node) and R3 (a 3-node
// cluster), each with the shard applying log messages one by one (--fleet-apply-group 1) and in groups
// (the default), and query latency in fleet mode as a ratio to direct mode. Real processes on loopback.
// Usage: pnpm --filter @ragwire/bench fleet [vectors] [hnsw|flat]   (default 20000 hnsw)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShardedCollection } from '@ragwire/client';
import { WriteLog } from '@ragwire/fleet';
import { hasCode } from '@ragwire/protocol';
import { killAllProcesses, startNats, startNatsCluster } from '@ragwire/processes';
import { describeMachine, machineLine } from '../machine';
import { fmt, quantile } from '../stats';
import { renderTable } from '../table';
import { startShard } from './shard-process';

const here = dirname(fileURLToPath(import.meta.url));
const DIM = 384;
const N = Number(process.argv[2] ?? 20_000);
const KIND = (process.argv[3] ?? 'hnsw') as 'hnsw' | 'flat';
const BATCH = 100;
const WRITERS = 4;
const QUERIES = 500;

function randomVectors(n: number): Float32Array {
  const v = new Float32Array(n * DIM);
  for (let i = 0; i < v.length; i++) v[i] = Math.random() - 0.5;
  return v;
}

interface Row {
  mode: string;
  vectorsPerSecond: number;
  /** Vectors per second until the shard had applied (and indexed) every write. */
  appliedPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  queryP50Ms: number;
  queryP99Ms: number;
}

async function measure(mode: string, coll: ShardedCollection): Promise<Row> {
  await coll.createCollection({ dim: DIM, metric: 'cosine', kind: KIND, storage: 'f32' });
  const acks: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (;;) {
        const start = next;
        if (start >= N) return;
        next += BATCH;
        const ids = Array.from({ length: Math.min(BATCH, N - start) }, (_, i) => `d${start + i}`);
        const vectors = randomVectors(ids.length);
        const s = performance.now();
        await coll.upsert({ ids, vectors });
        acks.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  // In fleet mode the shard applies behind the acknowledgements: wait until it applied every write
  // (a session query answers only then), to measure the applied rate too.
  for (;;) {
    try {
      await coll.query({ vectors: randomVectors(1), k: 10 });
      break;
    } catch (error) {
      if (!hasCode(error, 'RAGWIRE_ERR_REPLICA_BEHIND') && !hasCode(error, 'RAGWIRE_ERR_SHARD_UNAVAILABLE')) throw error;
    }
  }
  const appliedSeconds = (performance.now() - t0) / 1000;
  const lat: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const q = randomVectors(1);
    const s = performance.now();
    await coll.query({ vectors: q, k: 10 });
    lat.push(performance.now() - s);
  }
  const row = {
    mode,
    vectorsPerSecond: N / seconds,
    appliedPerSecond: N / appliedSeconds,
    ackP50Ms: quantile(acks, 0.5),
    ackP99Ms: quantile(acks, 0.99),
    queryP50Ms: quantile(lat, 0.5),
    queryP99Ms: quantile(lat, 0.99),
  };
  console.error(`${mode}: ${fmt(row.vectorsPerSecond)} vectors/s`);
  return row;
}

const rows: Row[] = [];
try {
  {
    const shard = await startShard([]);
    const coll = new ShardedCollection({ shards: [[shard.url]], collection: 'bench', timeoutMs: 60_000 });
    rows.push(await measure('direct', coll));
    await coll.close();
    await shard.stop();
    rmSync(shard.dir, { recursive: true, force: true });
  }
  for (const [replicas, grouped] of [
    [1, false],
    [1, true],
    [3, false],
    [3, true],
  ] as const) {
    const nats = replicas === 1 ? await startNats() : await startNatsCluster();
    const urls = 'urls' in nats ? nats.urls : [nats.url];
    const shard = await startShard(urls.flatMap((u) => ['--nats', u]).concat(['--member', 'b0'], grouped ? [] : ['--fleet-apply-group', '1']));
    const log = await WriteLog.connect({ servers: urls, replicas });
    const coll = new ShardedCollection({ shards: [[shard.url]], collection: 'bench', log, timeoutMs: 60_000 });
    rows.push(await measure(`JetStream R${replicas}, applied ${grouped ? 'in groups' : 'one by one'}`, coll));
    await coll.close();
    await log.close();
    await shard.stop();
    rmSync(shard.dir, { recursive: true, force: true });
    await nats.cleanup();
  }
} finally {
  killAllProcesses();
}

const direct = rows[0]!;
const table = renderTable(
  [
    'write path',
    'acknowledged vectors/s',
    'x direct',
    'applied vectors/s',
    'x direct',
    'ack p50 ms',
    'ack p99 ms',
    'query p50 ms',
    'query p99 ms',
    'query p50 x direct',
  ],
  rows.map((r) => [
    r.mode,
    fmt(r.vectorsPerSecond),
    fmt(r.vectorsPerSecond / direct.vectorsPerSecond, 2),
    fmt(r.appliedPerSecond),
    fmt(r.appliedPerSecond / direct.appliedPerSecond, 2),
    fmt(r.ackP50Ms, 1),
    fmt(r.ackP99Ms, 1),
    fmt(r.queryP50Ms, 2),
    fmt(r.queryP99Ms, 2),
    fmt(r.queryP50Ms / direct.queryP50Ms, 2),
  ]),
  true,
);
const machine = describeMachine();
console.log(
  `${machineLine(machine)}\n${N} x ${DIM}-d f32 vectors, batches of ${BATCH} from ${WRITERS} writers; ${KIND}; ${QUERIES} single queries k=10 after the writes; 1 shard server; nats-server on loopback\n\n${table}`,
);
const out = join(here, '../../results');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, `fleet-${new Date().toISOString().slice(0, 10)}-${KIND}.json`),
  JSON.stringify({ machine, vectors: N, dim: DIM, kind: KIND, batch: BATCH, writers: WRITERS, rows }, null, 2),
);
