// A member whose read of the log falls behind a stream that trims (its store writes held by a gate the
// test opens) must not skip the trimmed messages: it finds the gap, restores from its peer's snapshot,
// and ends with every document. Real nats-server, real LMDB stores under two in-process LogAppliers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { FleetCatalog, LogApplier, WriteLog, evenShardMap, streamName, type ApplyTarget } from '@ragwire/fleet';
import { startNats } from '@ragwire/processes';
import { hasCode } from '@ragwire/protocol';
import { storeApplyTarget } from '@ragwire/shard-server';
import { openStore, type Store } from '@ragwire/store';
import { numberedVectors } from './fleet-harness';
import { killAll } from './processes';

const DIM = 4;
const BUCKETS = 16;
const MAX_MSGS = 200;
const collection = 'gap';

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

/** The store's apply target, with applies at log positions held while `hold()` is in force. */
function gatedApplies(target: ApplyTarget): ApplyTarget & { hold(): () => void } {
  let gate = Promise.resolve();
  return {
    ...target,
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return release;
    },
    async apply(c, seq, write) {
      await gate;
      return target.apply(c, seq, write);
    },
    async applyGroup(c, writes) {
      await gate;
      return target.applyGroup(c, writes);
    },
  };
}

it('a read the stream trimmed past restores from a snapshot instead of skipping the gap', async () => {
  const log = await WriteLog.connect({ servers: nats.url, buckets: BUCKETS });
  await log.register({ collection, dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
  // One shard of two replicas: m1's snapshots hold m0's buckets.
  await (await FleetCatalog.open(nc)).casShardMap(collection, evenShardMap(BUCKETS, [['m0', 'm1']]), 0);
  const open = async (): Promise<Store> => {
    const dir = mkdtempSync(join(tmpdir(), 'ragwire-fleet-gap-'));
    dirs.push(dir);
    const store = await openStore({ path: dir });
    stores.push(store);
    return store;
  };
  const [s0, s1] = [await open(), await open()];
  const gated = gatedApplies(storeApplyTarget(s0));
  const problems: unknown[] = [];
  const a0 = new LogApplier({ connection: nc, member: 'm0', target: gated, onProblem: (e) => problems.push(e.error) });
  const a1 = new LogApplier({ connection: nc, member: 'm1', target: storeApplyTarget(s1), snapshotEvery: 50 });
  appliers.push(a0, a1);
  await Promise.all([a0.start(), a1.start()]);
  const write = async (n: number): Promise<number> =>
    (await log.appendUpsert(collection, { dim: DIM, ids: [`d${n}`], vectors: numberedVectors([n], DIM) })).seq;

  let last = 0;
  for (let n = 0; n < 20; n++) last = await write(n);
  await Promise.all([a0.waitFor(collection, last, 10_000), a1.waitFor(collection, last, 10_000)]);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(streamName('ragwire', collection));
  await jsm.streams.update(info.config.name, { ...info.config, max_msgs: MAX_MSGS, discard: 'old' as never });

  // m0's store writes are held while 1,500 more messages go through a stream that keeps 200.
  const release = gated.hold();
  for (let n = 20; n < 1520; n++) last = await write(n);
  await a1.waitFor(collection, last, 20_000);
  const first = (await jsm.streams.info(streamName('ragwire', collection))).state.first_seq;
  expect(first).toBeGreaterThan(1000);
  expect(a0.states()[0]!.processed).toBeLessThan(first);
  release();

  const count = (): number => s0.collection(collection).info().count;
  const by = Date.now() + 60_000;
  while ((count() !== 1520 || a0.states()[0]!.processed < last) && Date.now() < by) await sleep(100);
  console.log(`read gap: stream starts at ${first}, m0 at ${a0.states()[0]!.processed} holds ${count()} of 1520 documents`);
  expect(problems.some((e) => hasCode(e, 'RAGWIRE_ERR_LOG_TRIMMED'))).toBe(true);
  expect(count()).toBe(1520);
  expect(a0.states()[0]).toMatchObject({ trimmed: false, processed: last });
  await log.close();
}, 120_000);
