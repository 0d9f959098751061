// A member whose read of the log falls behind a stream that trims (its store writes held by a gate the
// test opens) must not skip the trimmed messages: it finds the gap, restores from its peer's snapshot,
// and ends with every document. Real nats-server, real LMDB stores under two in-process LogAppliers.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FleetCatalog, WriteLog, evenShardMap } from '@ragwire/fleet';
import { hasCode } from '@ragwire/protocol';
import { numberedVectors } from './fleet-harness';
import { heldTarget, startInProcessFleet, type InProcessFleet } from './in-process-fleet';
import { killAll } from './processes';

const DIM = 4;
const BUCKETS = 16;
const MAX_MSGS = 200;
const collection = 'gap';

let fleet: InProcessFleet;

beforeAll(async () => {
  fleet = await startInProcessFleet('ragwire-fleet-gap-');
}, 30_000);

afterAll(async () => {
  await fleet?.close();
  killAll();
});

it('a read the stream trimmed past restores from a snapshot instead of skipping the gap', async () => {
  const log = await WriteLog.connect({ servers: fleet.url, buckets: BUCKETS });
  await log.register({ collection, dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
  // One shard of two replicas: m1's snapshots hold m0's buckets.
  await (await FleetCatalog.open(fleet.nc)).casShardMap(collection, evenShardMap(BUCKETS, [['m0', 'm1']]), 0);
  const [m0, m1] = [await fleet.openMember(), await fleet.openMember()];
  const s0 = m0.store;
  const gated = heldTarget(m0.target);
  const problems: unknown[] = [];
  const a0 = fleet.applier({ member: 'm0', target: gated, onProblem: (e) => problems.push(e.error) });
  const a1 = fleet.applier({ member: 'm1', target: m1.target, snapshotEvery: 50 });
  await Promise.all([a0.start(), a1.start()]);
  const write = async (n: number): Promise<number> =>
    (await log.appendUpsert(collection, { dim: DIM, ids: [`d${n}`], vectors: numberedVectors([n], DIM) })).seq;

  let last = 0;
  for (let n = 0; n < 20; n++) last = await write(n);
  await Promise.all([a0.waitFor(collection, last, 10_000), a1.waitFor(collection, last, 10_000)]);
  await fleet.keepLast(collection, MAX_MSGS);

  // m0's store writes are held while 1,500 more messages go through a stream that keeps 200.
  const release = gated.holdApplies();
  for (let n = 20; n < 1520; n++) last = await write(n);
  await a1.waitFor(collection, last, 20_000);
  const first = await fleet.firstSeq(collection);
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
