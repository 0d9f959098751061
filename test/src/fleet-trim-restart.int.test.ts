// A replica restarted after the stream was trimmed up to where it had read lost nothing: it must come
// back ready, not trimmed, with no RAGWIRE_ERR_LOG_TRIMMED, even when the last messages before the trim
// were of other shards' buckets (passed over, never applied by its store); and a member that follows
// no bucket yet is not held back by a trim at all. Real nats-server, shard server processes, and no
// snapshot to fall back on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ShardedCollection } from '@ragwire/client';
import { Membership, type WriteLog, bucketOf, streamName } from '@ragwire/fleet';
import { replicaStates, startFleetSession, type FleetSession, type TestFleet } from './fleet-harness';
import { killAll } from './processes';

const DIM = 4;
const BUCKETS = 64;
const collection = 'trimmed';

describe('fleet: a restart after a trim the replica had read past', () => {
  let session: FleetSession;
  let fleet: TestFleet;
  let nc: NatsConnection;
  let log: WriteLog;
  let coll: ShardedCollection;

  beforeAll(async () => {
    session = await startFleetSession({ collection, shards: 2, replicas: 1, dim: DIM, buckets: BUCKETS, consistency: 'eventual' });
    ({ fleet, nc, log } = session);
    coll = session.open();
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    killAll();
  });

  const write = async (prefix: string, n: number): Promise<void> => {
    const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    await coll.upsert({ ids, vectors: new Float32Array(ids.length * DIM).fill(0.5) });
  };
  /** `n` ids whose buckets shard `shard` holds. */
  const idsOf = (shard: number, prefix: string, n: number): string[] => {
    const ids: string[] = [];
    for (let i = 0; ids.length < n; i++) if (fleet.map.owner[bucketOf(`${prefix}${i}`, BUCKETS)] === shard) ids.push(`${prefix}${i}`);
    return ids;
  };
  const position = async (member: string): Promise<{ seq: number; stored: number } | undefined> =>
    (await (await Membership.open(nc)).members()).find((m) => m.id === member)?.collections?.[collection];

  it('comes back ready and applies the writes after the trim', async () => {
    await write('a', 300);
    // The last messages before the trim are all of shard 1's buckets: shard 0 passes over them.
    const tail = idsOf(1, 't', 20);
    await coll.upsert({ ids: tail, vectors: new Float32Array(tail.length * DIM).fill(0.5) });
    const last = await log.lastSeq(collection);
    // The members' heartbeats say where their stores stand.
    let s0 = await position('s0r0');
    for (let i = 0; i < 100 && s0?.stored !== last; i++) await new Promise((r) => setTimeout(r, 100)), (s0 = await position('s0r0'));
    expect(s0).toMatchObject({ seq: last, stored: last });
    await fleet.kill9(0, 0);
    // Every message up to `last` was applied or passed over by both members: trim all of it.
    const jsm = await jetstreamManager(nc);
    const stream = streamName('ragwire', collection);
    await jsm.streams.purge(stream);
    await write('b', 100);
    expect((await jsm.streams.info(stream)).state.first_seq).toBe(last + 1);
    await fleet.restart(0, 0);
    const admin = fleet.members[0]![0]!.process!.adminUrl!;
    const expected = 300 + 20 + 100;
    let total = 0;
    for (let i = 0; i < 100 && total !== expected; i++) {
      await new Promise((r) => setTimeout(r, 100));
      total = (await replicaStates(fleet, collection)).flat().reduce((n, r) => n + r.docs, 0);
    }
    expect(total).toBe(expected);
    await new Promise((r) => setTimeout(r, 1100)); // the stream's end is polled each second
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/ragwire_fleet_log_trimmed\{collection="trimmed"\} 0/);
    expect(metrics).toMatch(/ragwire_fleet_log_lag\{collection="trimmed"\} 0/);
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
  }, 120_000);

  it('a member that follows no bucket yet is ready on a trimmed stream', async () => {
    const jsm = await jetstreamManager(nc);
    await write('p', 20);
    await jsm.streams.purge(streamName('ragwire', collection));
    const standby = await fleet.startNewMember('standby');
    const admin = standby.process!.adminUrl!;
    await write('c', 50);
    let ready = 0;
    for (let i = 0; i < 50 && ready !== 200; i++) await new Promise((r) => setTimeout(r, 100)), (ready = (await fetch(`${admin}/readyz`)).status);
    expect(ready).toBe(200);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/ragwire_fleet_log_trimmed\{collection="trimmed"\} 0/);
    // Its heartbeat names the collection from the beat after its feed started (every 2 s).
    let standbyAt = await position('standby');
    for (let i = 0; i < 50 && standbyAt === undefined; i++) await new Promise((r) => setTimeout(r, 100)), (standbyAt = await position('standby'));
    expect(standbyAt).toMatchObject({ stored: 0 }); // still an empty member: it may be given buckets
  }, 60_000);
});
