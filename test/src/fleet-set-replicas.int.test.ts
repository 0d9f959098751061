// Issue 13: adding a replica to one shard while clients write and query, through the real
// `ragwire-fleet set-replicas` CLI (a child process), on a real nats-server and real shard server
// processes. The new replica ends with exactly its shard's documents, the others keep theirs, and no
// query fails or counts a document twice.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { bucketOf } from '@ragwire/fleet';
import { fleetCli, lookUpEach, settleDocs, startFleetSession, writersAndQueriers, type FleetSession } from './fleet-harness';
import { killAll } from './processes';

const DIM = 8;
const MIN_DOCS = 2000;
const BATCH = 20;
const WRITE_PAUSE_MS = 50;
const GRACE_MS = 2000;
const collection = 'replicas';

describe('fleet: adding a replica to a shard while clients write and query', () => {
  let session: FleetSession;

  beforeAll(async () => {
    session = await startFleetSession({ collection, shards: 2, replicas: 1, dim: DIM });
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    killAll();
  });

  it('the new replica loads exactly its shard, with no write lost and no query failed', async () => {
    const { nats, fleet } = session;
    let switchedAt = 0;
    // Writes go on after the switch: the new replica must apply them too.
    const load = writersAndQueriers(session, {
      writers: 1,
      readers: 2,
      batch: BATCH,
      pauseMs: WRITE_PAUSE_MS,
      until: () => switchedAt > 0 && Date.now() - switchedAt > 1500 && load.next >= MIN_DOCS,
    });
    await load.acknowledged(MIN_DOCS / 3);
    const joining = await fleet.startNewMember('s1r1');
    await sleep(2500); // its first heartbeat with a position
    const result = (await fleetCli(
      nats.url,
      'set-replicas',
      '--collection',
      collection,
      '--shard',
      '1',
      '--replicas',
      's1r0,s1r1',
      '--grace-ms',
      String(GRACE_MS),
      '--timeout-ms',
      '120000',
    )) as { epoch: number; shards: string[][]; catchUpMs: number; caughtUpTo: number };
    const atSwitch = load.acked;
    switchedAt = Date.now();
    await load.finish();
    const { next: total, queries, failed, doubled, failures } = load;
    expect(load.acked).toBe(total);

    expect(result).toMatchObject({ epoch: 2, shards: [['s0r0'], ['s1r0', 's1r1']] });
    expect(await fleetCli(nats.url, 'map-show', '--collection', collection)).toMatchObject({ epoch: 2, pending: null });

    const idsPerShard = [0, 0];
    for (let n = 0; n < total; n++) idsPerShard[fleet.map.owner[bucketOf(`d${n}`, fleet.map.buckets)]!]!++;
    const urls = new Map([...fleet.members.flat(), joining].map((m) => [m.id, m.url!] as const));
    const statsOf = async (id: string): Promise<{ docs: number; writes: number }> => {
      const c = new ShardClient(urls.get(id)!, { timeoutMs: 5000 });
      try {
        const { stats } = await c.request({ type: 'stats', collection });
        return { docs: Number(stats.docs), writes: Number(stats['log.writes']) };
      } finally {
        await c.close();
      }
    };
    const want = { s0r0: idsPerShard[0]!, s1r0: idsPerShard[1]!, s1r1: idsPerShard[1]! };
    const docs = await settleDocs(session, urls, want);
    // The two replicas of shard 1 applied the same log messages, each once.
    const [s1r0, s1r1] = [await statsOf('s1r0'), await statsOf('s1r1')];
    console.log(
      `set-replicas: ${total} documents written (${atSwitch} before the switch), catch-up ${result.catchUpMs} ms to log position ${result.caughtUpTo}; ` +
        `docs per member ${JSON.stringify(docs)} vs ids per shard ${JSON.stringify(idsPerShard)}; writes s1r0 ${s1r0.writes}, s1r1 ${s1r1.writes}; ` +
        `${queries} queries during the change, ${failed} failed${failures.length ? `: ${failures.slice(0, 3).join(' | ')}` : ''}`,
    );
    expect(failures).toEqual([]);
    expect(failed).toBe(0);
    expect(doubled).toBe(0);
    expect(queries).toBeGreaterThan(0);
    expect(docs).toEqual(want);
    expect(s1r1.writes).toBe(s1r0.writes);

    // With the old replica gone, every id of shard 1 answers from the new one, each once.
    await fleet.kill9(1, 0);
    const shard1 = Array.from({ length: total }, (_, n) => n).filter((n) => fleet.map.owner[bucketOf(`d${n}`, fleet.map.buckets)] === 1);
    expect(await lookUpEach(session.open(), shard1, DIM)).toEqual({ found: shard1.length, missing: [], unexpected: [] });
  }, 360_000);
});
