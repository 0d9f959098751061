// A member given buckets by a move loads them beside its read of the log: while the load is held (its
// store writes wait on a gate the test opens), the member goes on applying the buckets it already owns,
// so read-your-writes on them still hold and its position keeps up with a stream that trims past the
// load; once opened, the load starts again from the owners' snapshots and hands its buckets over.
// Real nats-server, real LMDB stores under two in-process LogAppliers.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetCatalog, WriteLog, bucketOf, bucketsOfMember, evenShardMap } from '@ragwire/fleet';
import { hasCode } from '@ragwire/protocol';
import { numberedVectors } from './fleet-harness';
import { heldTarget, startInProcessFleet, type InProcessFleet } from './in-process-fleet';
import { killAll } from './processes';

const DIM = 4;
const BUCKETS = 64;
const MAX_MSGS = 300;
const collection = 'beside';

describe('fleet: loading moved buckets beside the log', () => {
  let fleet: InProcessFleet;

  beforeAll(async () => {
    fleet = await startInProcessFleet('ragwire-fleet-beside-');
  }, 30_000);

  afterAll(async () => {
    await fleet?.close();
    killAll();
  });

  it('applies its own buckets while a load is held, then loads the moved ones from snapshots past the trim', async () => {
    const log = await WriteLog.connect({ servers: fleet.url, buckets: BUCKETS });
    await log.register({ collection, dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
    const map = evenShardMap(BUCKETS, [['m0'], ['m1']]);
    const catalog = await FleetCatalog.open(fleet.nc);
    let revision = await catalog.casShardMap(collection, map, 0);
    const m0 = await fleet.openMember();
    const m1 = await fleet.openMember();
    const gated = heldTarget(m0.target);
    const held = gated.holdLoads();
    const loads: { documents: number; replayed: number }[] = [];
    const problems: unknown[] = [];
    const a0 = fleet.applier({
      member: 'm0',
      target: gated,
      snapshotEvery: 50,
      onLoad: (e) => loads.push(e),
      onProblem: (e) => problems.push(e.error),
    });
    const a1 = fleet.applier({ member: 'm1', target: m1.target, snapshotEvery: 50 });
    await Promise.all([a0.start(), a1.start()]);

    const ids = (from: number, n: number, keep: (b: number) => boolean): string[] => {
      const out: string[] = [];
      for (let i = from; out.length < n; i++) if (keep(bucketOf(`d${i}`, BUCKETS))) out.push(`d${i}`);
      return out;
    };
    const write = async (list: string[]): Promise<number> => {
      const ns = list.map((id) => Number(id.slice(1)));
      return (await log.appendUpsert(collection, { dim: DIM, ids: list, vectors: numberedVectors(ns, DIM) })).seq;
    };
    const written = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const list = ids(i * 40, 40, () => true);
      list.forEach((id) => written.add(id));
      await write(list);
    }
    let last = await log.lastSeq(collection);
    await Promise.all([a0.waitFor(collection, last, 20_000), a1.waitFor(collection, last, 20_000)]);

    // The operator's retention: the stream keeps its last MAX_MSGS messages.
    await fleet.keepLast(collection, MAX_MSGS);

    // A move gives m0 a quarter of m1's buckets; its load reaches the gate and waits there.
    const own = bucketsOfMember(map, 'm0');
    const moved = new Set([...bucketsOfMember(map, 'm1')].filter((_, i) => i % 4 === 0));
    const owner = map.owner.map((s, b) => (moved.has(b) ? 0 : s));
    revision = await catalog.casShardMap(collection, { ...map, next: { shards: map.shards, owner, id: 'move-1' } }, revision);
    await held.reached;

    // Writes to m0's own buckets, well past the retention: each one is applied while the load is held.
    const mine = (b: number): boolean => own.has(b);
    let n = 100_000;
    for (let i = 0; i < 60; i++) {
      const list = ids(n, 12, mine);
      n = Number(list.at(-1)!.slice(1)) + 1;
      list.forEach((id) => written.add(id));
      const seq = await write(list);
      if (i % 20 === 19) {
        await a0.waitFor(collection, seq, 10_000);
        for (const id of list) expect(m0.store.collection(collection).dbs.docs.get(id)).toBeDefined();
      }
    }
    last = await log.lastSeq(collection);
    await a0.waitFor(collection, last, 10_000);
    const first = await fleet.firstSeq(collection);
    expect(first).toBeGreaterThan(MAX_MSGS);
    const state = a0.states()[0]!;
    expect(state.move).toBeUndefined();
    expect(state.stored).toBe(last);
    expect(loads).toEqual([]);

    // Opened: the load finds its replay trimmed away, starts again from m1's snapshot, and hands over.
    held.release();
    const by = Date.now() + 60_000;
    while (a0.states()[0]!.move !== 'move-1' && Date.now() < by) await sleep(100);
    expect(a0.states()[0]!.move).toBe('move-1');
    expect(problems.some((e) => hasCode(e, 'RAGWIRE_ERR_LOG_TRIMMED'))).toBe(true);
    expect(loads.length).toBe(1);
    expect(loads[0]!.documents).toBeGreaterThan(0);

    // Writes after the hand-over to a moved bucket are applied by m0's read.
    const late = ids(200_000, 5, (b) => moved.has(b));
    late.forEach((id) => written.add(id));
    await a0.waitFor(collection, await write(late), 10_000);
    const held0 = new Set(m0.store.collection(collection).dbs.docs.getKeys());
    const expected = [...written].filter((id) => own.has(bucketOf(id, BUCKETS)) || moved.has(bucketOf(id, BUCKETS))).sort();
    console.log(
      `load beside the log: ${written.size} ids written, stream first ${first}; m0 holds ${held0.size} (own + moved), loads ${JSON.stringify(loads)}`,
    );
    expect([...held0].sort()).toEqual(expected);
    await log.close();
  }, 120_000);
});
