// A fleet for the integration tests: shard server processes started with --nats (real LMDB in temp
// dirs), a shard map in the catalog, and helpers that compare what each replica applied with the log.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ShardClient } from '@ragwire/client';
import { EVERY_BUCKET, FleetCatalog, Membership, bucketOfSubject, evenShardMap, retryNats, streamName, type ShardMap } from '@ragwire/fleet';
import { REPO_ROOT, TS_NODE_ARGS, startShardProcess, type ShardProcess } from './processes';

export interface FleetMember {
  readonly id: string;
  readonly dataDir: string;
  process: ShardProcess | undefined;
  url: string | undefined;
}

export interface TestFleet {
  readonly nats: string[];
  readonly members: FleetMember[][];
  readonly map: ShardMap;
  /** Shard URLs for ShardedCollection, in shard order (current addresses). */
  shardUrls(): string[][];
  kill9(shard: number, replica: number): Promise<void>;
  /** Replaces a stopped member's data directory by an empty one (a new replica). */
  wipe(shard: number, replica: number): void;
  /** Starts a stopped member again on its data directory and address. */
  restart(shard: number, replica: number): Promise<void>;
  /** Starts a member that holds no bucket yet (on an empty data directory), for a rebalance to give it some. */
  startNewMember(id: string): Promise<FleetMember>;
  close(): Promise<void>;
}

function shardArgs(nats: string[], id: string, snapshotEvery: number): string[] {
  return [
    ...nats.flatMap((u) => ['--nats', u]),
    '--member',
    id,
    '--log-level',
    'warn',
    '--snapshot-every',
    '2000',
    '--fleet-snapshot-every',
    String(snapshotEvery),
  ];
}

async function startMember(nats: string[], m: FleetMember, snapshotEvery: number): Promise<void> {
  // A restarted member listens where it did, so clients keep their shard URLs.
  m.process = await startShardProcess({ dataDir: m.dataDir, admin: true, extra: shardArgs(nats, m.id, snapshotEvery), ...(m.url ? { listen: [m.url] } : {}) });
  m.url = m.process.addresses[0]!;
}

/** Starts shards x replicas members and puts an even shard map for `collection` (before any write). */
export async function startFleet(options: {
  nats: string[];
  collection: string;
  shards: number;
  replicas: number;
  buckets?: number;
  natsReplicas?: number;
  snapshotEvery?: number;
}): Promise<TestFleet> {
  const snapshotEvery = options.snapshotEvery ?? 50_000;
  const buckets = options.buckets ?? 1024;
  const members: FleetMember[][] = Array.from({ length: options.shards }, (_, s) =>
    Array.from({ length: options.replicas }, (_, r) => ({
      id: `s${s}r${r}`,
      dataDir: mkdtempSync(join(tmpdir(), `ragwire-fleet-s${s}r${r}-`)),
      process: undefined,
      url: undefined,
    })),
  );
  const map = evenShardMap(
    buckets,
    members.map((rs) => rs.map((m) => m.id)),
  );
  const nc = await connect({ servers: options.nats });
  try {
    const catalog = await FleetCatalog.open(nc, { replicas: options.natsReplicas ?? 1 });
    await Membership.open(nc, { replicas: options.natsReplicas ?? 1, ttlMs: 6000 });
    const current = await catalog.shardMap(options.collection);
    await catalog.casShardMap(options.collection, current ? { ...map, epoch: current.map.epoch + 1 } : map, current?.revision ?? 0);
  } finally {
    await nc.close();
  }
  await Promise.all(members.flat().map((m) => startMember(options.nats, m, snapshotEvery)));
  const joined: FleetMember[] = [];
  return {
    nats: options.nats,
    members,
    map,
    shardUrls: () => members.map((rs) => rs.map((m) => m.url!)),
    async kill9(s, r) {
      const m = members[s]![r]!;
      await m.process?.kill9();
      m.process = undefined;
    },
    wipe(s, r) {
      const m = members[s]![r]!;
      rmSync(m.dataDir, { recursive: true, force: true });
    },
    async restart(s, r) {
      await startMember(options.nats, members[s]![r]!, snapshotEvery);
    },
    async startNewMember(id) {
      const m: FleetMember = { id, dataDir: mkdtempSync(join(tmpdir(), `ragwire-fleet-${id}-`)), process: undefined, url: undefined };
      joined.push(m);
      await startMember(options.nats, m, snapshotEvery);
      return m;
    },
    async close() {
      const all = [...members.flat(), ...joined];
      await Promise.all(all.map((m) => m.process?.stop().catch(() => undefined)));
      for (const m of all) rmSync(m.dataDir, { recursive: true, force: true });
    },
  };
}

/** Per shard: how many messages of the log it must apply (its buckets' and every 'all' message), and the log's last sequence. */
export async function expectedWrites(nc: NatsConnection, collection: string, map: ShardMap): Promise<{ perShard: number[]; lastSeq: number }> {
  const stream = streamName('ragwire', collection);
  // Right after NATS nodes were killed a JetStream API call may time out while a leader is elected: retry, bounded.
  const info = await retryNats(async () => (await jetstreamManager(nc)).streams.info(stream), 60_000);
  const perShard = new Array<number>(map.shards.length).fill(0);
  if (info.state.messages === 0) return { perShard, lastSeq: info.state.last_seq };
  const consumer = await jetstream(nc).consumers.get(stream, { headers_only: true });
  const iter = await consumer.consume({ max_messages: 4096 });
  for await (const m of iter) {
    const b = bucketOfSubject(m.subject);
    if (b === EVERY_BUCKET) for (let s = 0; s < perShard.length; s++) perShard[s]!++;
    else perShard[map.owner[b]!]!++;
    if (m.seq >= info.state.last_seq) break;
  }
  await iter.close();
  return { perShard, lastSeq: info.state.last_seq };
}

export interface ReplicaState {
  member: string;
  docs: number;
  /** Log messages the replica's store applied (committed with them), so equal to its shard's expected count iff each was applied exactly once. */
  writes: number;
}

/** Each live replica's document count and committed writes for `collection`. */
export async function replicaStates(fleet: TestFleet, collection: string): Promise<ReplicaState[][]> {
  return Promise.all(
    fleet.members.map((rs) =>
      Promise.all(
        rs.map(async (m) => {
          const c = new ShardClient(m.url!, { timeoutMs: 5000 });
          try {
            const { stats } = await c.request({ type: 'stats', collection });
            return { member: m.id, docs: Number(stats.docs), writes: Number(stats['log.writes']) };
          } finally {
            await c.close();
          }
        }),
      ),
    ),
  );
}

/** Polls until every replica committed exactly its shard's expected writes (or the timeout). */
export async function waitConverged(
  fleet: TestFleet,
  nc: NatsConnection,
  collection: string,
  timeoutMs: number,
): Promise<{ expected: number[]; states: ReplicaState[][] }> {
  const { perShard } = await expectedWrites(nc, collection, fleet.map);
  const deadline = Date.now() + timeoutMs;
  let states: ReplicaState[][] = [];
  for (;;) {
    states = await replicaStates(fleet, collection).catch(() => states);
    const done = states.length > 0 && states.every((rs, s) => rs.every((r) => r.writes === perShard[s]));
    if (done || Date.now() > deadline) return { expected: perShard, states };
    await sleep(200);
  }
}

const run = promisify(execFile);

/** Runs the real ragwire-fleet CLI (a child process) against `natsUrl`; resolves to its JSON answer. */
export async function fleetCli(natsUrl: string, ...args: string[]): Promise<unknown> {
  const cli = join(REPO_ROOT, 'packages/fleet/src/cli.ts');
  const { stdout } = await run('node', [...TS_NODE_ARGS, cli, '--nats', natsUrl, ...args], { cwd: REPO_ROOT, timeout: 180_000 });
  return JSON.parse(stdout);
}

/** Document n's vector (`dim` floats, a hash of n): the same n always gives the same vector. */
export function numberedVectors(ns: number[], dim: number): Float32Array {
  const v = new Float32Array(ns.length * dim);
  ns.forEach((n, i) => {
    for (let d = 0; d < dim; d++) v[i * dim + d] = (((n * 2654435761) >>> (d * 4)) & 0xff) / 255 + 0.01;
  });
  return v;
}
