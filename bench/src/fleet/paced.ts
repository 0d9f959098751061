// Fleet acknowledgement latency at a paced rate (issue 13: ack p99 <= 10 ms at 5,000 vectors/s, R1):
// 384-d upserts through JetStream on one nats-server node while one shard server applies them. Open
// loop: write i is due at start + i x interval and its latency runs from when it was due, so a stall
// counts against every write it delays (no coordinated omission). Real processes on loopback.
// Usage: pnpm --filter @ragwire/bench fleet-paced [vectors/s] [seconds] [batch] [hnsw|flat] [apply group]   (default 5000 20 10 hnsw 128)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ShardedCollection } from '@ragwire/client';
import { WriteLog } from '@ragwire/fleet';
import { killAllProcesses, startNats } from '@ragwire/processes';
import { describeMachine, machineLine } from '../machine';
import { fmt, quantile } from '../stats';
import { renderTable } from '../table';
import { startShard } from './shard-process';

const here = dirname(fileURLToPath(import.meta.url));
const DIM = 384;
const RATE = Number(process.argv[2] ?? 5000); // vectors/s
const SECONDS = Number(process.argv[3] ?? 20);
const BATCH = Number(process.argv[4] ?? 10); // vectors per write
const KIND = (process.argv[5] ?? 'hnsw') as 'hnsw' | 'flat';
// Log messages the shard applies as one store write, at most (--fleet-apply-group; 1: each alone).
const APPLY_GROUP = Number(process.argv[6] ?? 128);
// Writes in flight beyond this mean the log cannot keep the rate: the run stops and says so.
const MAX_IN_FLIGHT = 1000;
// The first second warms the connection and the shard's collection; it is not reported.
const WARMUP_S = 1;

function randomVectors(n: number): Float32Array {
  const v = new Float32Array(n * DIM);
  for (let i = 0; i < v.length; i++) v[i] = Math.random() - 0.5;
  return v;
}

const nats = await startNats();
const shard = await startShard(['--nats', nats.url, '--member', 'b0', '--fleet-apply-group', String(APPLY_GROUP)]);
const log = await WriteLog.connect({ servers: nats.url, replicas: 1 });
const coll = new ShardedCollection({ shards: [[shard.url]], collection: 'paced', log, timeoutMs: 60_000 });
const writes = Math.round((RATE * SECONDS) / BATCH);
const intervalMs = (1000 * BATCH) / RATE;
const acks: number[] = [];
let sent = 0;
let inFlight = 0;
let maxInFlight = 0;
let failed = 0;
let stopped: string | undefined;
try {
  await coll.createCollection({ dim: DIM, metric: 'cosine', kind: KIND, storage: 'f32' });
  // Vectors made before the clock starts: the loop only publishes.
  const pool = Array.from({ length: 64 }, () => randomVectors(BATCH));
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < writes && stopped === undefined; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (inFlight >= MAX_IN_FLIGHT) stopped = `more than ${MAX_IN_FLIGHT} writes in flight after ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    const ids = Array.from({ length: BATCH }, (_, j) => `d${i * BATCH + j}`);
    sent++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    pending.push(
      coll.upsert({ ids, vectors: pool[i % pool.length]! }).then(
        () => {
          inFlight--;
          if (due - t0 >= WARMUP_S * 1000) acks.push(performance.now() - due);
        },
        (error: unknown) => {
          inFlight--;
          failed++;
          if (failed === 1) console.error(`first failed write: ${String(error)}`);
        },
      ),
    );
    if (i % Math.round(1000 / intervalMs) === 0) console.error(`${((performance.now() - t0) / 1000).toFixed(0)} s: ${i} writes sent, ${inFlight} in flight`);
  }
  await Promise.all(pending);
  const seconds = (performance.now() - t0) / 1000;
  const row = {
    rate: RATE,
    batch: BATCH,
    writes: acks.length,
    achievedVectorsPerSecond: ((sent - failed) * BATCH) / seconds,
    ackP50Ms: quantile(acks, 0.5),
    ackP90Ms: quantile(acks, 0.9),
    ackP99Ms: quantile(acks, 0.99),
    ackP999Ms: quantile(acks, 0.999),
    ackMaxMs: Math.max(...acks),
    maxInFlight,
    failed,
    ...(stopped ? { stopped } : {}),
  };
  const table = renderTable(
    [
      'paced vectors/s',
      'vectors per write',
      'writes measured',
      'achieved vectors/s',
      'ack p50 ms',
      'ack p90 ms',
      'ack p99 ms',
      'ack p99.9 ms',
      'ack max ms',
      'max in flight',
      'failed',
    ],
    [
      [
        fmt(RATE),
        String(BATCH),
        fmt(row.writes),
        fmt(row.achievedVectorsPerSecond),
        fmt(row.ackP50Ms, 2),
        fmt(row.ackP90Ms, 2),
        fmt(row.ackP99Ms, 2),
        fmt(row.ackP999Ms, 2),
        fmt(row.ackMaxMs, 1),
        String(maxInFlight),
        String(failed),
      ],
    ],
    true,
  );
  const machine = describeMachine();
  console.log(
    `${machineLine(machine)}\nJetStream R1 (one nats-server node), one shard server applying (${KIND}, groups of <= ${APPLY_GROUP} messages); ${DIM}-d f32; ${SECONDS} s open loop, first ${WARMUP_S} s not reported${stopped ? `; STOPPED: ${stopped}` : ''}\n\n${table}`,
  );
  const out = join(here, '../../results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, `fleet-paced-${new Date().toISOString().slice(0, 10)}-${RATE}-${BATCH}-${KIND}${APPLY_GROUP === 128 ? '' : `-group${APPLY_GROUP}`}.json`),
    JSON.stringify({ machine, dim: DIM, kind: KIND, applyGroup: APPLY_GROUP, seconds: SECONDS, ...row }, null, 2),
  );
} finally {
  await coll.close();
  await log.close();
  await shard.stop().catch(() => undefined);
  rmSync(shard.dir, { recursive: true, force: true });
  await nats.cleanup();
  killAllProcesses();
}
