// A member given buckets by a move loads them beside its read of the log: while the load is held (its
// store writes wait on a gate the test opens), the member goes on applying the buckets it already owns,
// so read-your-writes on them still hold and its position keeps up with a stream that trims past the
// load; once opened, the load starts again from the owners' snapshots and hands its buckets over.
// Real nats-server, real LMDB stores under two in-process LogAppliers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { FleetCatalog, LogApplier, WriteLog, bucketOf, bucketsOfMember, evenShardMap, streamName, type ApplyTarget } from '@ragwire/fleet';
import { startNats } from '@ragwire/processes';
import { hasCode } from '@ragwire/protocol';
import { storeApplyTarget } from '@ragwire/shard-server';
import { openStore, type Store } from '@ragwire/store';
import { numberedVectors } from './fleet-harness';
import { killAll } from './processes';

const DIM = 4;
const BUCKETS = 64;
const MAX_MSGS = 300;
const collection = 'beside';

/** The store's apply target, with loads (writes outside the log position) held until `open()`. */
function gatedLoads(target: ApplyTarget): ApplyTarget & { open(): void; reached: Promise<void> } {
  let release!: () => void;
  let reach!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (reach = resolve));
  return {
    ...target,
    open: () => release(),
    reached,
    async load(c, write, within) {
      reach();
      await gate;
      return target.load(c, write, within);
    },
  };
}

describe('fleet: loading moved buckets beside the log', () => {
  let nats: Awaited<ReturnType<typeof startNats>>;
  let nc: NatsConnection;
  const dirs: string[] = [];
  const stores: Store[] = [];
  const appliers: LogApplier[] = [];

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  }, 30_000);

  afterAll(async () => {
    for (const a of appliers) await a.close();
    for (const s of stores) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await nc?.close();
    await nats?.cleanup();
    killAll();
  });

  const openTarget = async (): Promise<{ store: Store; target: ApplyTarget }> => {
    const dir = mkdtempSync(join(tmpdir(), 'ragwire-fleet-beside-'));
    dirs.push(dir);
    const store = await openStore({ path: dir });
    stores.push(store);
    return { store, target: storeApplyTarget(store) };
  };

  it('applies its own buckets while a load is held, then loads the moved ones from snapshots past the trim', async () => {
    const log = await WriteLog.connect({ servers: nats.url, buckets: BUCKETS });
    await log.register({ collection, dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
    const map = evenShardMap(BUCKETS, [['m0'], ['m1']]);
    const catalog = await FleetCatalog.open(nc);
    let revision = await catalog.casShardMap(collection, map, 0);
    const m0 = await openTarget();
    const m1 = await openTarget();
    const gated = gatedLoads(m0.target);
    const loads: { documents: number; replayed: number }[] = [];
    const problems: unknown[] = [];
    const a0 = new LogApplier({
      connection: nc,
      member: 'm0',
      target: gated,
      snapshotEvery: 50,
      onLoad: (e) => loads.push(e),
      onProblem: (e) => problems.push(e.error),
    });
    const a1 = new LogApplier({ connection: nc, member: 'm1', target: m1.target, snapshotEvery: 50 });
    appliers.push(a0, a1);
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
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(streamName('ragwire', collection));
    await jsm.streams.update(info.config.name, { ...info.config, max_msgs: MAX_MSGS, discard: 'old' as never });

    // A move gives m0 a quarter of m1's buckets; its load reaches the gate and waits there.
    const own = bucketsOfMember(map, 'm0');
    const moved = new Set([...bucketsOfMember(map, 'm1')].filter((_, i) => i % 4 === 0));
    const owner = map.owner.map((s, b) => (moved.has(b) ? 0 : s));
    revision = await catalog.casShardMap(collection, { ...map, next: { shards: map.shards, owner, id: 'move-1' } }, revision);
    await gated.reached;

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
    const first = (await jsm.streams.info(streamName('ragwire', collection))).state.first_seq;
    expect(first).toBeGreaterThan(MAX_MSGS);
    const held = a0.states()[0]!;
    expect(held.move).toBeUndefined();
    expect(held.stored).toBe(last);
    expect(loads).toEqual([]);

    // Opened: the load finds its replay trimmed away, starts again from m1's snapshot, and hands over.
    gated.open();
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
