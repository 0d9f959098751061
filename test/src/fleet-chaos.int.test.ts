// Issue 13's convergence test on a 3-node NATS cluster (streams and KV at R3): 3 shards x 2 replicas,
// concurrent writers, kill -9 of random shard servers and of NATS nodes while they write. After
// convergence every acknowledged document is on every replica of its shard, and each replica applied
// each of its log messages exactly once. Counts scale with RAGWIRE_FLEET_CHAOS: 'ci' (default, a few
// minutes on 2 cores) or 'full' (issue 13's 100k writes, 8 clients, 10 + 3 kills).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ShardedCollection } from '@ragwire/client';
import { WriteLog, bucketOf } from '@ragwire/fleet';
import { hasCode } from '@ragwire/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFleet, waitConverged, type TestFleet } from './fleet-harness';
import { startNatsCluster } from '@ragwire/processes';
import { killAll } from './processes';

const FULL = process.env.RAGWIRE_FLEET_CHAOS === 'full';
const TOTAL = FULL ? 100_000 : 12_000;
const CLIENTS = 8;
const SHARD_KILLS = FULL ? 10 : 4;
const NATS_KILLS = FULL ? 3 : 1;
const BATCH = 100;
// Writing, kills included, ends within this (a few minutes at CI counts on 2 cores), or the test fails saying where it stood.
const WRITE_PHASE_MS = FULL ? 1_800_000 : 360_000;
const DIM = 16;
const collection = 'chaos';

function vectors(n: number, seed: number): Float32Array {
  const v = new Float32Array(n * DIM);
  for (let i = 0; i < v.length; i++) v[i] = ((seed + i) % 97) / 97 + 0.01;
  return v;
}

describe(`fleet chaos (${FULL ? 'full' : 'ci'} counts)`, () => {
  let cluster: Awaited<ReturnType<typeof startNatsCluster>>;
  let fleet: TestFleet;
  let nc: NatsConnection;
  const logs: WriteLog[] = [];
  const colls: ShardedCollection[] = [];

  beforeAll(async () => {
    cluster = await startNatsCluster();
    nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    fleet = await startFleet({ nats: cluster.urls, collection, shards: 3, replicas: 2, natsReplicas: 3 });
    for (let c = 0; c < CLIENTS; c++) {
      const log = await WriteLog.connect({ servers: cluster.urls, replicas: 3, writeTimeoutMs: 8000 });
      logs.push(log);
      colls.push(new ShardedCollection({ shards: fleet.shardUrls(), collection, log, timeoutMs: 20_000 }));
    }
    await colls[0]!.createCollection({ dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
  }, 120_000);

  afterAll(async () => {
    for (const c of colls) await c.close();
    for (const l of logs) await l.close();
    await nc?.close();
    await fleet?.close();
    await cluster?.cleanup();
    killAll();
  });

  it('loses and duplicates nothing through kill -9 of shard servers and NATS nodes', async () => {
    let next = 0;
    let acked = 0;
    let retried = 0;
    let chaosDone = false;
    let shardKills = 0;
    let natsKills = 0;
    const t0 = Date.now();
    const writeDeadline = t0 + WRITE_PHASE_MS;
    // At least TOTAL documents, and writes go on until every kill happened (all of them under load).
    const writers = colls.map(async (coll) => {
      for (;;) {
        const start = next;
        if (start >= TOTAL && chaosDone) return;
        next += BATCH;
        const ids = Array.from({ length: BATCH }, (_, i) => `d${start + i}`);
        for (;;) {
          try {
            await coll.upsert({ ids, vectors: vectors(ids.length, start) });
            acked += ids.length;
            break;
          } catch (error) {
            // The outcome of a write that failed this way is unknown: retry it (an upsert is idempotent),
            // after a pause (a retry loop without one starves the event loop when the failure is immediate),
            // and only until the writing phase's deadline.
            if (!hasCode(error, 'RAGWIRE_ERR_LOG_UNAVAILABLE')) throw error;
            if (Date.now() > writeDeadline)
              throw new Error(`writes still failing after ${WRITE_PHASE_MS} ms (${acked} acknowledged, ${retried} retries): ${String(error)}`);
            retried++;
            await sleep(100);
          }
        }
      }
    });
    const chaos = (async () => {
      const events = [...Array<'shard'>(SHARD_KILLS).fill('shard'), ...Array<'nats'>(NATS_KILLS).fill('nats')];
      events.sort(() => Math.random() - 0.5);
      for (const event of events) {
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
        if (event === 'shard') {
          const s = Math.floor(Math.random() * 3);
          const r = Math.floor(Math.random() * 2);
          await fleet.kill9(s, r);
          await new Promise((res) => setTimeout(res, 200));
          await fleet.restart(s, r);
          shardKills++;
        } else {
          const node = cluster.nodes[Math.floor(Math.random() * 3)]!;
          await node.kill9();
          await new Promise((res) => setTimeout(res, 1500));
          await node.restart();
          natsKills++;
        }
      }
      chaosDone = true;
    })();
    await Promise.all([chaos, ...writers]);
    const writeSeconds = (Date.now() - t0) / 1000;
    const total = next;
    expect(acked).toBe(total);
    expect(shardKills).toBe(SHARD_KILLS);
    expect(natsKills).toBe(NATS_KILLS);
    const { expected, states } = await waitConverged(fleet, nc, collection, 180_000);
    const idsPerShard = [0, 0, 0];
    for (let i = 0; i < total; i++) idsPerShard[fleet.map.owner[bucketOf(`d${i}`, fleet.map.buckets)]!]!++;
    let lost = 0;
    let duplicated = 0;
    for (const [s, rs] of states.entries()) {
      for (const r of rs) {
        lost += Math.max(0, idsPerShard[s]! - r.docs) + Math.max(0, expected[s]! - r.writes);
        duplicated += Math.max(0, r.docs - idsPerShard[s]!) + Math.max(0, r.writes - expected[s]!);
      }
    }
    console.log(
      `fleet chaos: ${total} writes acknowledged from ${CLIENTS} clients in ${writeSeconds.toFixed(1)} s (${retried} batch retries after LOG_UNAVAILABLE), ` +
        `${shardKills} shard kill -9, ${natsKills} NATS kill -9 during the writes; lost ${lost}, duplicated ${duplicated}; ` +
        `docs per replica ${JSON.stringify(states.map((rs) => rs.map((r) => r.docs)))} vs ids per shard ${JSON.stringify(idsPerShard)}; ` +
        `log messages applied ${JSON.stringify(states.map((rs) => rs.map((r) => r.writes)))} vs expected ${JSON.stringify(expected)}`,
    );
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
  }, 600_000);
});
