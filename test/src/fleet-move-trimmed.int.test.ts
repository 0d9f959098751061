// Moves out of a trimmed log (issue 13 §2 and §5): a stream limited to a few hundred messages (max-msgs,
// discard old) no longer starts at 1, so a member given buckets cannot replay them from the start. A new
// shard's member loads its buckets from the snapshots their current owners uploaded to the object store,
// then replays the log after them; when a shard is then removed, the remaining members (which hold other
// buckets) load the removed shard's buckets the same way up to their own position, one of them killed
// and restarted while it does. Real nats-server, real shard server processes, the real ragwire-fleet CLI,
// writes going on throughout.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardedCollection } from '@ragwire/client';
import { bucketOf } from '@ragwire/fleet';
import { Prng } from '@ragwire/protocol';
import { fleetCli, numberedVectors, startFleetSession, writersAndQueriers, type FleetSession } from './fleet-harness';
import { killAll } from './processes';

const DIM = 8;
const BUCKETS = 64;
const MAX_MSGS = 600;
const SNAPSHOT_EVERY = 100;
const GRACE_MS = 2000;
const collection = 'trimmed';
/** Draws the second kill's moment (printed with the result, so a failing moment can be run again). */
const KILL_SEED = Number(process.env.RAGWIRE_FLEET_KILL_SEED ?? Date.now() % 100_000);

const vectorsFor = (ns: number[]): Float32Array => numberedVectors(ns, DIM);

describe('fleet: moving buckets when the stream was trimmed past its start', () => {
  let session: FleetSession;
  let next = 0;

  /** Polls until each member holds exactly the ids of its shard's buckets (or a minute passed); returns what they hold and should. */
  const settle = async (urls: Map<string, string>): Promise<{ docs: Record<string, number>; expected: Record<string, number> }> => {
    const map = await session.currentMap();
    const perShard = new Array<number>(map.shards.length).fill(0);
    for (let n = 0; n < next; n++) perShard[map.owner[bucketOf(`d${n}`, BUCKETS)]!]!++;
    const expected = Object.fromEntries([...urls.keys()].map((id) => [id, perShard[map.shards.findIndex((ms) => ms.includes(id))] ?? 0]));
    const by = Date.now() + 60_000;
    let docs: Record<string, number> = {};
    for (;;) {
      docs = Object.fromEntries(await Promise.all([...urls].map(async ([id, url]) => [id, await session.docsOf(url)] as const)));
      if (JSON.stringify(docs) === JSON.stringify(expected) || Date.now() > by) return { docs, expected };
      await sleep(250);
    }
  };
  /** Looks every id up through a client that follows the map: each must answer exactly once. */
  const missingIds = async (): Promise<number[]> => {
    const reader = new ShardedCollection({ shards: session.fleet.shardUrls(), collection, log: session.log, timeoutMs: 15_000 });
    const missing: number[] = [];
    try {
      for (let start = 0; start < next; start += 100) {
        const ns = Array.from({ length: Math.min(100, next - start) }, (_, i) => start + i);
        const res = await reader.query({ vectors: vectorsFor([start]), k: 200, filter: { must: [{ key: 'n', in: ns }] }, options: { exact: true } });
        const got = res.ids.map((id) => Number(id.slice(1)));
        if (new Set(got).size !== got.length) throw new Error(`ids ${start}..${start + 99} answered twice: ${got.join(',')}`);
        missing.push(...ns.filter((n) => !got.includes(n)));
      }
    } finally {
      await reader.close();
    }
    return missing;
  };

  beforeAll(async () => {
    session = await startFleetSession({ collection, shards: 2, replicas: 1, dim: DIM, buckets: BUCKETS, snapshotEvery: SNAPSHOT_EVERY });
    await session.retain(MAX_MSGS);
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    killAll();
  });

  it("a new shard loads its buckets from the owners' snapshots, then a removed shard's buckets load into the others", async () => {
    const { nats, fleet } = session;
    // About 16 messages per batch of 20 ids over 64 buckets: the stream trims well past its start.
    const before = writersAndQueriers(session, { writers: 1, readers: 0, batch: 20, pauseMs: 0, until: () => before.next >= 2400 });
    await before.finish();
    const trimmed = await session.streamState();
    expect(trimmed.first_seq).toBeGreaterThan(MAX_MSGS);
    expect(trimmed.messages).toBeLessThanOrEqual(MAX_MSGS);

    // Writes go on during both moves (and keep trimming the stream).
    let writing = true;
    const writer = writersAndQueriers(session, { writers: 1, readers: 0, batch: 20, pauseMs: 150, first: before.next, until: () => !writing });
    try {
      const newMember = await fleet.startNewMember('s2r0');
      await sleep(2500); // its first heartbeat
      const added = (await fleetCli(
        nats.url,
        'add-shard',
        '--collection',
        collection,
        '--replicas',
        's2r0',
        '--grace-ms',
        String(GRACE_MS),
        '--timeout-ms',
        '90000',
      )) as { epoch: number; buckets: number[]; caughtUpTo: number; catchUpMs: number };
      expect(added.epoch).toBe(2);
      expect(added.buckets.reduce((a, b) => a + b, 0)).toBe(BUCKETS);
      const afterAdd = await session.streamState();
      await sleep(1000);
      const removing = fleetCli(nats.url, 'remove-shard', '0', '--collection', collection, '--grace-ms', String(GRACE_MS), '--timeout-ms', '90000');
      // A member loading the removed shard's buckets is killed (-9) twice, once the move is pending and
      // again a drawn 0-1.5 s after it came back (RAGWIRE_FLEET_KILL_SEED picks the draw), and restarted
      // each time: a load is not recorded, so it loads them again (from the snapshots, as the stream moved
      // on) while it goes on applying its own buckets. The writer pauses while it is down: a shard whose
      // only replica is down while the stream trims past its last snapshot has lost those writes
      // (docs/operations.md, "Moves out of a trimmed stream").
      const pendingBy = Date.now() + 30_000;
      while (!(await session.currentMap()).next) {
        if (Date.now() > pendingBy) throw new Error('remove-shard put no pending move within 30 s');
        await sleep(100);
      }
      const kills = [0, new Prng(KILL_SEED).nextInt(1500)];
      for (const after of kills) {
        await sleep(after);
        writer.paused = true;
        await fleet.kill9(1, 0);
        await sleep(500);
        await fleet.restart(1, 0);
        writer.paused = false;
      }
      const removed = (await removing) as { epoch: number; shards: string[][]; buckets: number[]; catchUpMs: number };
      expect(removed.epoch).toBe(3);
      expect(removed.shards).toEqual([['s1r0'], ['s2r0']]);
      for (const b of removed.buckets) expect(Math.abs(b - BUCKETS / 2)).toBeLessThanOrEqual(BUCKETS / 2 / 10);
      writing = false;
      await writer.finish();
      next = writer.next;
      const final = await session.streamState();
      const urls = new Map<string, string>([
        ['s0r0', fleet.members[0]![0]!.url!],
        ['s1r0', fleet.members[1]![0]!.url!],
        ['s2r0', newMember.url!],
      ]);
      const { docs, expected } = await settle(urls);
      console.log(
        `move from a trimmed log: ${next} ids written; stream first..last ${trimmed.first_seq}..${trimmed.last_seq} before the add, ${afterAdd.first_seq}..${afterAdd.last_seq} after it, ${final.first_seq}..${final.last_seq} at the end; ` +
          `add-shard caught up in ${added.catchUpMs} ms to ${added.caughtUpTo}, remove-shard in ${removed.catchUpMs} ms with kills at +${kills.join(', +')} ms (RAGWIRE_FLEET_KILL_SEED=${KILL_SEED}); docs per member ${JSON.stringify(docs)} vs expected ${JSON.stringify(expected)}`,
      );
      expect(final.first_seq).toBeGreaterThan(afterAdd.first_seq);
      expect(docs).toEqual(expected);
      expect(expected.s0r0).toBe(0);
      expect(expected.s2r0).toBeGreaterThan(0);
      expect(await missingIds()).toEqual([]);
    } finally {
      writing = false;
      await writer.finish();
    }
  }, 300_000);
});
