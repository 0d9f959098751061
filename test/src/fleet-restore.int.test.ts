// A new replica whose log was trimmed past its position restores from the snapshot its peer uploaded to
// the JetStream object store, then replays the log after it. Real nats-server, shard server processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ShardedCollection } from '@ragwire/client';
import { SnapshotStore, bucketSetKey, bucketsOfMember, retryNats, streamName } from '@ragwire/fleet';
import { replicaStates, startFleetSession, type FleetSession, type TestFleet } from './fleet-harness';
import { killAll } from './processes';

const DIM = 8;
const collection = 'restore';

describe('fleet: restore from the object store', () => {
  let session: FleetSession;
  let fleet: TestFleet;
  let nc: NatsConnection;
  let coll: ShardedCollection;

  beforeAll(async () => {
    session = await startFleetSession({ collection, shards: 1, replicas: 2, dim: DIM, buckets: 64, snapshotEvery: 500, consistency: 'eventual' });
    ({ fleet, nc } = session);
    coll = session.open();
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    killAll();
  });

  const write = async (from: number, n: number): Promise<void> => {
    for (let start = from; start < from + n; start += 50) {
      const ids = Array.from({ length: 50 }, (_, i) => `d${start + i}`);
      await coll.upsert({ ids, vectors: new Float32Array(ids.length * DIM).fill(0.25), payloads: ids.map((id) => ({ text: id })) });
    }
  };

  it('a wiped replica behind a trimmed stream loads the snapshot and catches up', async () => {
    await write(0, 2000);
    await fleet.kill9(0, 1);
    fleet.wipe(0, 1);
    await write(2000, 1000);
    // The live replica uploads a snapshot every 500 messages; trim the stream up to it.
    const snapshots = await SnapshotStore.open(nc);
    const key = bucketSetKey(bucketsOfMember(fleet.map, 's0r0'));
    let snapshot: Awaited<ReturnType<SnapshotStore['get']>>;
    // Applying runs behind the acknowledgements: on a loaded machine the 500th message may take a while
    // (and a busy server may time a read out).
    for (let i = 0; i < 1200 && (snapshot = await retryNats(() => snapshots.get(collection, key), 10_000))?.seq === undefined; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(snapshot!.seq).toBeGreaterThan(0);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(streamName('ragwire', collection), { seq: snapshot!.seq + 1 });
    const first = (await jsm.streams.info(streamName('ragwire', collection))).state.first_seq;
    expect(first).toBeGreaterThan(1);
    await write(3000, 500);
    await fleet.restart(0, 1);
    const deadline = Date.now() + 60_000;
    // The restarted replica creates the collection from the catalog, then restores: poll until both hold everything.
    let states: Awaited<ReturnType<typeof replicaStates>> = [];
    while (Date.now() < deadline && !(states[0]?.[1]?.docs === 3500 && states[0]?.[0]?.docs === 3500)) {
      await new Promise((r) => setTimeout(r, 250));
      states = await replicaStates(fleet, collection).catch(() => states);
    }
    console.log(
      `restore: stream trimmed to start at ${first}, snapshot at ${snapshot!.seq} (${snapshot!.writes.reduce((n, w) => n + w.ids.length, 0)} documents); replicas ${JSON.stringify(states[0])}`,
    );
    expect(states[0]!.map((r) => r.docs)).toEqual([3500, 3500]);
    const admin = fleet.members[0]![1]!.process!.adminUrl!;
    await new Promise((r) => setTimeout(r, 1200));
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${admin}/metrics`)).text()).toMatch(/ragwire_fleet_log_trimmed\{collection="restore"\} 0/);
    // The restored replica answers with the payloads it loaded.
    await fleet.kill9(0, 0);
    const r = await coll.query({ vectors: new Float32Array(DIM).fill(0.25), k: 3, options: { withPayload: true, exact: true } });
    expect(r.ids.length).toBe(3);
    expect(r.payloads![0]).toEqual({ text: r.ids[0] });
    await fleet.restart(0, 0);
  }, 240_000);
});
