// A fleet for the integration tests: shard server processes started with --nats (real LMDB in temp
// dirs), a shard map in the catalog, helpers that compare what each replica applied with the log, and a
// session (NATS, a fleet, a write log, ShardedCollections) with paced writers and queriers over it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ShardClient, ShardedCollection } from '@ragwire/client';
import { EVERY_BUCKET, FleetCatalog, Membership, WriteLog, bucketOfSubject, evenShardMap, retryNats, streamName, type ShardMap } from '@ragwire/fleet';
import { startNats } from '@ragwire/processes';
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

/** A nats-server, a fleet on it, a write log and the ShardedCollections a test opens over them. */
export interface FleetSession {
  readonly nats: Awaited<ReturnType<typeof startNats>>;
  readonly nc: NatsConnection;
  readonly fleet: TestFleet;
  readonly log: WriteLog;
  readonly collection: string;
  readonly dim: number;
  /** A ShardedCollection over the fleet through the log (closed with the session). */
  open(options?: { consistency?: 'session' | 'eventual' }): ShardedCollection;
  /** The collection's shard map as the catalog holds it now. */
  currentMap(): Promise<ShardMap>;
  /** The STATS `docs` of the member listening at `url`. */
  docsOf(url: string): Promise<number>;
  /** The collection's stream state: where it starts and ends, how many messages it holds. */
  streamState(): Promise<{ first_seq: number; last_seq: number; messages: number }>;
  /** The operator's retention: the stream keeps its last `maxMsgs` messages (discard old). */
  retain(maxMsgs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a nats-server, a fleet of `shards` x `replicas` members with an even map for `collection`, a
 * write log, and creates the collection (flat, f32, cosine, `dim`) through a ShardedCollection.
 */
export async function startFleetSession(options: {
  collection: string;
  shards: number;
  replicas: number;
  dim: number;
  buckets?: number;
  snapshotEvery?: number;
  consistency?: 'session' | 'eventual';
}): Promise<FleetSession> {
  const { collection, dim } = options;
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  const fleet = await startFleet({ nats: [nats.url], ...options });
  const log = await WriteLog.connect({ servers: nats.url, ...(options.buckets !== undefined ? { buckets: options.buckets } : {}) });
  const opened: ShardedCollection[] = [];
  const stream = streamName('ragwire', collection);
  const session: FleetSession = {
    nats,
    nc,
    fleet,
    log,
    collection,
    dim,
    open(o = {}) {
      const c = new ShardedCollection({
        shards: fleet.shardUrls(),
        collection,
        log,
        timeoutMs: 15_000,
        consistency: o.consistency ?? options.consistency ?? 'session',
      });
      opened.push(c);
      return c;
    },
    async currentMap() {
      return (await (await FleetCatalog.open(nc)).shardMap(collection))!.map;
    },
    async docsOf(url) {
      const c = new ShardClient(url, { timeoutMs: 5000 });
      try {
        return Number((await c.request({ type: 'stats', collection })).stats.docs);
      } finally {
        await c.close();
      }
    },
    async streamState() {
      return (await (await jetstreamManager(nc)).streams.info(stream)).state;
    },
    async retain(maxMsgs) {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(stream);
      await jsm.streams.update(info.config.name, { ...info.config, max_msgs: maxMsgs, discard: 'old' as never });
    },
    async close() {
      for (const c of opened) await c.close();
      await log.close();
      await nc.close();
      await fleet.close();
      await nats.cleanup();
    },
  };
  await session.open().createCollection({ dim, metric: 'cosine', kind: 'flat', storage: 'f32' });
  return session;
}

/** Paced writers and queriers over a session (writersAndQueriers), and what they saw. */
export interface WritersAndQueriers {
  /** Ids handed to the writers so far: d<first> .. d<next - 1>. */
  readonly next: number;
  /** Ids whose write was acknowledged. */
  readonly acked: number;
  readonly queries: number;
  /** Queries that failed; `failures` holds the first five. */
  readonly failed: number;
  readonly failures: string[];
  /** Queries whose answer held a document twice. */
  readonly doubled: number;
  /** While true, the writers wait instead of writing. */
  paused: boolean;
  /** Resolves once at least `n` ids were acknowledged. */
  acknowledged(n: number): Promise<void>;
  /** Resolves once every writer saw `until()` hold (rejects if one failed); then stops the queriers. */
  finish(): Promise<void>;
}

/**
 * `writers` ShardedCollections writing batches of ids d<n> (vectors numberedVectors(n), payload
 * metadata.n) with `pauseMs` between batches until `until()` holds, and `readers` querying (k 20) every
 * 5 ms until the writers finished, counting failed queries and answers that hold a document twice.
 */
export function writersAndQueriers(
  session: FleetSession,
  options: { writers: number; readers: number; batch: number; pauseMs: number; until: () => boolean; first?: number; deadlineMs?: number },
): WritersAndQueriers {
  const vectorsFor = (ns: number[]): Float32Array => numberedVectors(ns, session.dim);
  const deadline = Date.now() + (options.deadlineMs ?? 240_000);
  let stopReading = false;
  const state = {
    next: options.first ?? 0,
    acked: 0,
    queries: 0,
    failed: 0,
    failures: [] as string[],
    doubled: 0,
    paused: false,
    async acknowledged(n: number) {
      while (state.acked < n) await sleep(50);
    },
    async finish() {
      try {
        await Promise.all(writing);
      } finally {
        stopReading = true;
        await Promise.all(reading);
      }
    },
  };
  const writing = Array.from({ length: options.writers }, async () => {
    const coll = session.open();
    await sleep(0); // `until` may read the object returned below
    while (!options.until()) {
      if (Date.now() > deadline) throw new Error(`writers still running after ${options.deadlineMs ?? 240_000} ms (${state.acked} acknowledged)`);
      if (!state.paused) {
        const ns = Array.from({ length: options.batch }, (_, i) => state.next + i);
        state.next += options.batch;
        await coll.upsert({ ids: ns.map((n) => `d${n}`), vectors: vectorsFor(ns), payloads: ns.map((n) => ({ metadata: { n } })) });
        state.acked += options.batch;
      }
      await sleep(options.pauseMs);
    }
  });
  const reading = Array.from({ length: options.readers }, async (_, r) => {
    const coll = session.open();
    for (let i = 0; !stopReading; i++) {
      try {
        const res = await coll.query({ vectors: vectorsFor([i * 7 + r]), k: 20 });
        state.queries++;
        if (new Set(res.ids).size !== res.ids.length) state.doubled++;
      } catch (error) {
        state.failed++;
        if (state.failures.length < 5) state.failures.push(String(error));
      }
      await sleep(5);
    }
  });
  return state;
}

/**
 * Polls the STATS `docs` of each member in `want` (listening at `urls.get(id)`) until every count
 * equals its wanted one, or `timeoutMs` passed; returns the last reading.
 */
export async function settleDocs(
  session: FleetSession,
  urls: ReadonlyMap<string, string>,
  want: Record<string, number>,
  timeoutMs = 60_000,
): Promise<Record<string, number>> {
  const settleBy = Date.now() + timeoutMs;
  for (;;) {
    const docs = Object.fromEntries(await Promise.all(Object.keys(want).map(async (id) => [id, await session.docsOf(urls.get(id)!)] as const)));
    if (JSON.stringify(docs) === JSON.stringify(want) || Date.now() > settleBy) return docs;
    await sleep(250);
  }
}

/** What looking each numbered document up by its number found (lookUpEach). */
export interface Lookup {
  /** Live documents answered once each. */
  found: number;
  /** Live documents not answered. */
  missing: number[];
  /** Answers that should not be there: a document answered twice, or one `live` says is gone. */
  unexpected: number[];
}

/**
 * Looks documents d<n> up through `reader`: exact queries filtered on metadata.n, 100 numbers at a
 * time (k 200, so every match answers). A partial answer throws.
 */
export async function lookUpEach(reader: ShardedCollection, ns: number[], dim: number, live: (n: number) => boolean = () => true): Promise<Lookup> {
  const lookup: Lookup = { found: 0, missing: [], unexpected: [] };
  for (let start = 0; start < ns.length; start += 100) {
    const page = ns.slice(start, start + 100);
    const res = await reader.query({
      vectors: numberedVectors(page.slice(0, 1), dim),
      k: 200,
      filter: { must: [{ key: 'n', in: page }] },
      options: { exact: true },
    });
    if (res.partial) throw new Error(`the lookup of d${page[0]} .. d${page.at(-1)} was answered in part`);
    const seen = new Set<number>();
    for (const n of res.ids.map((id) => Number(id.slice(1)))) {
      if (seen.has(n) || !live(n)) lookup.unexpected.push(n);
      seen.add(n);
    }
    for (const n of page) {
      if (!live(n)) continue;
      if (seen.has(n)) lookup.found++;
      else lookup.missing.push(n);
    }
  }
  return lookup;
}
