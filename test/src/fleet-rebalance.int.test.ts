// Issue 13 §5: adding a 4th shard to a fleet while clients write and query, through the real
// ragwire-fleet CLI (a child process), on a real nats-server and real shard server processes. After the
// move: every acknowledged id is on exactly one shard, no query failed or counted a document twice, the
// buckets are balanced within 10%, and the old owners dropped what they gave away after the grace.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { bucketOf } from '@ragwire/fleet';
import { fleetCli, lookUpEach, numberedVectors, settleDocs, startFleetSession, writersAndQueriers, type FleetSession } from './fleet-harness';
import { killAll } from './processes';

const DIM = 8;
const MIN_DOCS = 3000;
const BATCH = 20;
// Writers pause between batches: a few thousand writes over the whole move.
const WRITE_PAUSE_MS = 100;
const GRACE_MS = 3000;
const collection = 'rebalance';

const vectorsFor = (ns: number[]): Float32Array => numberedVectors(ns, DIM);

describe('fleet: adding a shard while clients write and query', () => {
  let session: FleetSession;

  beforeAll(async () => {
    session = await startFleetSession({ collection, shards: 3, replicas: 1, dim: DIM });
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    killAll();
  });

  it('moves buckets to the new shard with no write lost, no query failed, each document once', async () => {
    const { nats, fleet, log } = session;
    let movedAt = 0;
    // Writes go on for a while after the switch: the new owners must apply them, the old ones pass them over.
    const load = writersAndQueriers(session, {
      writers: 2,
      readers: 2,
      batch: BATCH,
      pauseMs: WRITE_PAUSE_MS,
      until: () => movedAt > 0 && Date.now() - movedAt > 1500 && load.next >= MIN_DOCS,
    });
    // The new shard's two members start empty, then the CLI moves buckets to them while the load runs.
    await load.acknowledged(MIN_DOCS / 3);
    await Promise.all([fleet.startNewMember('s3r0'), fleet.startNewMember('s3r1')]);
    await sleep(2500); // their first heartbeat with a position
    const result = (await fleetCli(
      nats.url,
      'add-shard',
      '--collection',
      collection,
      '--replicas',
      's3r0,s3r1',
      '--grace-ms',
      String(GRACE_MS),
      '--timeout-ms',
      '120000',
    )) as { epoch: number; moved: number; buckets: number[]; shards: string[][]; caughtUpTo: number; catchUpMs: number };
    const ackedAtSwitch = load.acked;
    movedAt = Date.now();
    await load.finish();
    const { next: total, queries, failed, doubled, failures } = load;
    expect(load.acked).toBe(total);

    // Balanced within 10% of the mean, and the map says so too.
    expect(result.epoch).toBe(2);
    expect(result.shards).toEqual([['s0r0'], ['s1r0'], ['s2r0'], ['s3r0', 's3r1']]);
    const mean = 1024 / 4;
    for (const b of result.buckets) expect(Math.abs(b - mean)).toBeLessThanOrEqual(mean * 0.1);
    const shown = await fleetCli(nats.url, 'map-show', '--collection', collection);
    expect(shown).toMatchObject({ epoch: 2, buckets: result.buckets, pending: null });

    // Every member converges to exactly the documents of its shard's buckets: the old owners dropped the
    // moved ones after the grace, the new ones loaded them, nothing is lost or held twice.
    const urls = new Map<string, string>([...fleet.members.flat().map((m) => [m.id, m.url!] as const)]);
    for (const m of await log.members()) if (!urls.has(m.id)) urls.set(m.id, m.addresses[0]!);
    const map = await session.currentMap();
    const idsPerShard = new Array<number>(4).fill(0);
    for (let n = 0; n < total; n++) idsPerShard[map.owner[bucketOf(`d${n}`, map.buckets)]!]!++;
    const want = { s0r0: idsPerShard[0]!, s1r0: idsPerShard[1]!, s2r0: idsPerShard[2]!, s3r0: idsPerShard[3]!, s3r1: idsPerShard[3]! };
    const docs = await settleDocs(session, urls, want);
    console.log(
      `rebalance: ${total} writes acknowledged (${ackedAtSwitch} before the switch), ${result.moved} buckets moved, catch-up ${result.catchUpMs} ms to log position ${result.caughtUpTo}; ` +
        `buckets per shard ${JSON.stringify(result.buckets)}; docs per member ${JSON.stringify(docs)} vs ids per shard ${JSON.stringify(idsPerShard)}; ` +
        `${queries} queries during the move, ${failed} failed, ${doubled} with a document twice${failures.length ? `: ${failures.join(' | ')}` : ''}`,
    );
    expect(failed).toBe(0);
    expect(doubled).toBe(0);
    expect(queries).toBeGreaterThan(0);
    expect(docs).toEqual(want);
    expect(idsPerShard.reduce((a, b) => a + b, 0)).toBe(total);

    // Per-id lookup through a client that learns the 4th shard from the map: each id answers exactly once.
    const reader = session.open();
    const all = Array.from({ length: total }, (_, n) => n);
    expect(await lookUpEach(reader, all, DIM)).toEqual({ found: total, missing: [], unexpected: [] });
    expect(reader.shardCount).toBe(4);
  }, 420_000);

  it('refuses a query routed by a stale epoch with RAGWIRE_ERR_STALE_EPOCH', async () => {
    const c = new ShardClient(session.fleet.members[0]![0]!.url!, { timeoutMs: 5000 });
    try {
      await expect(c.query({ collection, dim: DIM, k: 1, vectors: vectorsFor([1]), options: { epoch: 1 } })).rejects.toMatchObject({
        code: 'RAGWIRE_ERR_STALE_EPOCH',
      });
      const ok = await c.query({ collection, dim: DIM, k: 1, vectors: vectorsFor([1]), options: { epoch: 2 } });
      expect(ok.ids.length).toBe(1);
    } finally {
      await c.close();
    }
  }, 30_000);
});
