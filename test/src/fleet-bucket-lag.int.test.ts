// Lag per bucket: the messages of each followed bucket past a member's position, read from the stream's
// tail. A LogApplier whose store holds every write back (an ApplyTarget gated by the test) gives exact
// counts; a shard server process that cannot apply its log exports them on /metrics, and none once caught up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ShardedCollection } from '@ragwire/client';
import {
  EVERY_BUCKET,
  FleetCatalog,
  LogApplier,
  WriteLog,
  bucketOf,
  bucketsOfMember,
  evenShardMap,
  type ApplyTarget,
  type SequencedWrite,
} from '@ragwire/fleet';
import { startNats } from '@ragwire/processes';
import { openStore } from '@ragwire/store';
import { startFleet, waitConverged, type TestFleet } from './fleet-harness';
import { killAll } from './processes';

const DIM = 4;
const BUCKETS = 64;

/** An id in `bucket` of BUCKETS. */
function idIn(bucket: number, n: number): string {
  for (let i = 0; ; i++) {
    const id = `b${bucket}-${n}-${i}`;
    if (bucketOf(id, BUCKETS) === bucket) return id;
  }
}

/** An ApplyTarget that holds every apply until `open()`: the applier's position stays where the store is. */
function gatedTarget(): ApplyTarget & { open(): void; applied: number } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const target = {
    applied: 0,
    open: () => release(),
    ensureCollection: async () => undefined,
    appliedSeq: () => target.applied,
    async apply(_collection: string, seq: number) {
      await gate;
      target.applied = Math.max(target.applied, seq);
    },
    async applyGroup(_collection: string, writes: readonly SequencedWrite[]) {
      await gate;
      target.applied = Math.max(target.applied, writes.at(-1)!.seq);
      return [];
    },
    recordPosition: async (_collection: string, seq: number) => void (target.applied = Math.max(target.applied, seq)),
    exportFrames: () => [],
    dropWhere: async () => 0,
    load: async () => undefined,
    restore: async () => undefined,
  };
  return target;
}

describe('fleet: lag per bucket', () => {
  let nats: Awaited<ReturnType<typeof startNats>>;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  }, 30_000);

  afterAll(async () => {
    await nc?.close();
    await nats?.cleanup();
    killAll();
  });

  it('counts the messages of each followed bucket past the position, and nothing once applied', async () => {
    const collection = 'lagged';
    const log = await WriteLog.connect({ servers: nats.url, buckets: BUCKETS });
    await log.register({ collection, dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
    const map = evenShardMap(BUCKETS, [['m0'], ['m1']]);
    await (await FleetCatalog.open(nc)).casShardMap(collection, map, 0);
    const mine = [...bucketsOfMember(map, 'm0')];
    const theirs = [...bucketsOfMember(map, 'm1')];
    const target = gatedTarget();
    const applier = new LogApplier({ connection: nc, member: 'm0', target });
    await applier.start();
    // Bucket mine[i] gets i + 1 messages; three buckets of the other shard one each; two deletes by filter.
    const expected = new Map<number | typeof EVERY_BUCKET, number>();
    for (let i = 0; i < 12; i++) {
      for (let n = 0; n <= i; n++) await log.appendUpsert(collection, { dim: DIM, ids: [idIn(mine[i]!, n)], vectors: new Float32Array(DIM).fill(0.5) });
      expected.set(mine[i]!, i + 1);
    }
    for (let i = 0; i < 3; i++) await log.appendUpsert(collection, { dim: DIM, ids: [idIn(theirs[i]!, 0)], vectors: new Float32Array(DIM).fill(0.5) });
    await log.appendDelete(collection, { filter: { must: [{ key: 'tag', eq: 'x' }] } });
    await log.appendDelete(collection, { filter: { must: [{ key: 'tag', eq: 'y' }] } });
    expected.set(EVERY_BUCKET, 2);
    const total = 78 + 3 + 2;
    expect(await log.lastSeq(collection)).toBe(total);

    const lag = await applier.bucketLag(collection);
    expect(lag).toMatchObject({ scanned: total, complete: true });
    expect(new Map([...lag!.buckets].sort())).toEqual(new Map([...expected].sort()));
    const partial = await applier.bucketLag(collection, 10);
    expect(partial).toMatchObject({ scanned: 10, complete: false });
    expect(partial!.buckets.get(mine[3]!)).toBe(4); // messages 1..10: buckets mine[0..2] (6) and four of mine[3]

    target.open();
    await applier.waitFor(collection, total, 10_000);
    expect(await applier.bucketLag(collection)).toEqual({ buckets: new Map(), scanned: 0, complete: true });
    await applier.close();
    await log.close();
  }, 60_000);

  it('a shard server stuck behind exports the lag of its most lagging buckets on /metrics, and none once caught up', async () => {
    const collection = 'metered';
    const fleet: TestFleet = await startFleet({ nats: [nats.url], collection, shards: 2, replicas: 1, buckets: BUCKETS });
    const log = await WriteLog.connect({ servers: nats.url, buckets: BUCKETS });
    const coll = new ShardedCollection({ shards: fleet.shardUrls(), collection, log, timeoutMs: 15_000, consistency: 'eventual' });
    const scrape = async (admin: string) => {
      const text = await (await fetch(`${admin}/metrics`)).text();
      const series = new Map(
        [...text.matchAll(/^ragwire_fleet_bucket_lag\{collection="metered",bucket="(\d+|all)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]),
      );
      const max = Number(/^ragwire_fleet_bucket_lag_max\{collection="metered"\} (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
      const behind = Number(/^ragwire_fleet_buckets_behind\{collection="metered"\} (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
      const lag = Number(/^ragwire_fleet_log_lag\{collection="metered"\} (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
      return { series, max, behind, lag };
    };
    try {
      await coll.createCollection({ dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
      // Shard 0's member finds the collection in its store with other settings: it cannot apply the log.
      await fleet.kill9(0, 0);
      const dataDir = fleet.members[0]![0]!.dataDir;
      let store = await openStore({ path: dataDir });
      await store.dropCollection(collection, { ifExists: true });
      await store.createCollection({ name: collection, dim: DIM * 2, metric: 'cosine', kind: 'flat' });
      await store.close();
      await fleet.restart(0, 0);
      // 10 writes of 64 documents: one message per bucket each touches.
      const expected = new Map<string, number>();
      for (let w = 0; w < 10; w++) {
        const ids = Array.from({ length: 64 }, (_, i) => `d${w}-${i}`);
        for (const b of new Set(ids.map((id) => bucketOf(id, BUCKETS))))
          if (fleet.map.owner[b] === 0) expected.set(String(b), (expected.get(String(b)) ?? 0) + 1);
        await coll.upsert({ ids, vectors: new Float32Array(ids.length * DIM).fill(0.25) });
      }
      const ownMessages = [...expected.values()].reduce((a, b) => a + b, 0);
      const last = await log.lastSeq(collection);
      let admin = fleet.members[0]![0]!.process!.adminUrl!;
      let seen = await scrape(admin);
      // The stream's end is polled each second.
      for (let i = 0; i < 50 && seen.lag !== last; i++) await new Promise((r) => setTimeout(r, 100)), (seen = await scrape(admin));
      console.log(
        `stuck member: log lag ${seen.lag}, ${ownMessages} messages of its buckets, ${expected.size} buckets behind, top ${JSON.stringify([...seen.series])}`,
      );
      expect(seen.lag).toBe(last);
      expect(seen.behind).toBe(expected.size);
      expect(seen.max).toBe(Math.max(...expected.values()));
      expect(seen.series.size).toBe(Math.min(10, expected.size));
      const ranked = [...expected.values()].sort((a, b) => b - a);
      for (const [bucket, n] of seen.series) {
        expect(n).toBe(expected.get(bucket));
        expect(n).toBeGreaterThanOrEqual(ranked[seen.series.size - 1]!);
      }
      // Its peer holds no lag.
      const peer = await scrape(fleet.members[1]![0]!.process!.adminUrl!);
      expect(peer).toMatchObject({ max: 0, behind: 0, lag: 0 });
      expect(peer.series.size).toBe(0);

      // With the stray collection gone it applies the log and the per-bucket series go away.
      await fleet.kill9(0, 0);
      store = await openStore({ path: dataDir });
      await store.dropCollection(collection);
      await store.close();
      await fleet.restart(0, 0);
      admin = fleet.members[0]![0]!.process!.adminUrl!;
      const nc2 = await connect({ servers: nats.url });
      const { expected: writes, states } = await waitConverged(fleet, nc2, collection, 30_000);
      await nc2.close();
      expect(states.map((rs) => rs.map((r) => r.writes))).toEqual(writes.map((n) => [n]));
      await new Promise((r) => setTimeout(r, 1100));
      seen = await scrape(admin);
      expect(seen).toMatchObject({ max: 0, behind: 0, lag: 0 });
      expect(seen.series.size).toBe(0);
    } finally {
      await coll.close();
      await log.close();
      await fleet.close();
    }
  }, 120_000);
});
