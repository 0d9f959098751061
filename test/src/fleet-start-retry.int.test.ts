// A shard server that starts while its NATS cluster has lost quorum (two of three nodes down, no
// JetStream leader) waits for the cluster instead of exiting, and serves once it is back.
import { afterAll, expect, it } from 'vitest';
import { startNatsCluster } from '@ragwire/processes';
import { startFleet, type TestFleet } from './fleet-harness';

let cluster: Awaited<ReturnType<typeof startNatsCluster>> | undefined;
let fleet: TestFleet | undefined;

afterAll(async () => {
  await fleet?.close();
  await cluster?.cleanup();
});

it('a member started without a NATS quorum retries its JetStream calls and becomes ready when the quorum returns', async () => {
  cluster = await startNatsCluster();
  fleet = await startFleet({ nats: cluster.urls, collection: 'start_retry', shards: 1, replicas: 1, natsReplicas: 3 });
  await fleet.kill9(0, 0);
  await cluster.nodes[1]!.kill9();
  await cluster.nodes[2]!.kill9();
  const started = Date.now();
  // Without the retry the member exits (status 2) on its first JetStream timeout, and this rejects.
  const restarting = fleet.restart(0, 0);
  const outcome = Promise.race([restarting.then(() => 'ready'), new Promise((r) => setTimeout(() => r('waiting'), 4_000))]);
  expect(await outcome).toBe('waiting');
  await Promise.all([cluster.nodes[1]!.restart(), cluster.nodes[2]!.restart()]);
  await restarting;
  expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
  expect(fleet.members[0]![0]!.process).toBeDefined();
}, 120_000);
