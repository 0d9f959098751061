// Fleet move benchmark (issue 13 §8): the time to move one shard's buckets. A collection of N 384-d f32
// vectors (flat) on 2 shards of one member each (1024 buckets) is written through JetStream R1 in
// upserts of BATCH random ids; each member's LogApplier applies its half into its own LMDB store. Then
// shard 1's buckets move to shard 0's member (what `ragwire-fleet remove-shard 1` does), twice:
//   1. from the log: the stream holds every write, so the member replays it from the start, restricted
//      to the moved buckets, beside its read of its own;
//   2. from a snapshot: the stream is trimmed up to shard 1's latest snapshot in the object store, so
//      the member loads that snapshot's documents, then the log after it.
// Each is timed from the pending map to the member having loaded the buckets and reached the stream's end
// (what the CLI waits for before its compare-and-set); beside them, the same vectors upserted into an
// empty store directly (a re-ingest). Between the two the move is aborted and the loaded documents are
// dropped. Stores and appliers run in this process, nats-server as a child process on loopback.
// Usage: pnpm --filter @ragwire/bench fleet-move [vectors]   (default 100000)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  FleetCatalog,
  LogApplier,
  SnapshotStore,
  WriteLog,
  bucketOf,
  bucketSetKey,
  bucketsOfMember,
  connectNats,
  evenShardMap,
  streamName,
  type ShardMap,
} from '@ragwire/fleet';
import { killAllProcesses, startNats } from '@ragwire/processes';
import { storeApplyTarget } from '@ragwire/shard-server';
import { openStore, type Store } from '@ragwire/store';
import { describeMachine, machineLine } from '../machine';
import { fmt } from '../stats';
import { renderTable } from '../table';

const here = dirname(fileURLToPath(import.meta.url));
const DIM = 384;
const N = Number(process.argv[2] ?? 100_000);
const BATCH = 10_000;
const BUCKETS = 1024;
const COLLECTION = 'move';
const spec = { collection: COLLECTION, dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' } as const;

function randomVectors(n: number): Float32Array {
  const v = new Float32Array(n * DIM);
  for (let i = 0; i < v.length; i++) v[i] = Math.random() - 0.5;
  return v;
}

interface Row {
  path: string;
  vectors: number;
  seconds: number;
  detail: string;
}

const dirs: string[] = [];
async function emptyStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-move-'));
  dirs.push(dir);
  return openStore({ path: dir });
}

const rows: Row[] = [];
const nats = await startNats();
const nc = await connectNats({ servers: [nats.url] });
const appliers: LogApplier[] = [];
const stores: Store[] = [];
try {
  const log = await WriteLog.connect({ servers: nats.url, buckets: BUCKETS });
  await log.register(spec);
  const map = evenShardMap(BUCKETS, [['m0'], ['m1']], 1);
  const catalog = await FleetCatalog.open(nc);
  await catalog.casShardMap(COLLECTION, { ...map, dropGraceMs: 100 }, 0);
  const [s0, s1] = [await emptyStore(), await emptyStore()];
  stores.push(s0, s1);
  const loads: { documents: number; replayed: number; ms: number }[] = [];
  const a0 = new LogApplier({
    connection: nc,
    member: 'm0',
    target: storeApplyTarget(s0),
    snapshotEvery: Number.MAX_SAFE_INTEGER,
    onLoad: (e) => loads.push(e),
  });
  // m1 uploads no snapshot while the collection is written; one is asked for before the second move.
  let a1 = new LogApplier({ connection: nc, member: 'm1', target: storeApplyTarget(s1), snapshotEvery: Number.MAX_SAFE_INTEGER });
  appliers.push(a0, a1);
  await Promise.all([a0.start(), a1.start()]);

  // The collection, through the log; both members apply their halves as it is written.
  const moved = bucketsOfMember(map, 'm1');
  let movedVectors = 0;
  const t0 = performance.now();
  for (let start = 0; start < N; start += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, N - start) }, (_, i) => `d${start + i}`);
    movedVectors += ids.filter((id) => moved.has(bucketOf(id, BUCKETS))).length;
    await log.appendUpsert(COLLECTION, { dim: DIM, ids, vectors: randomVectors(ids.length) });
  }
  const last = await log.lastSeq(COLLECTION);
  await Promise.all([a0.waitFor(COLLECTION, last, 3_600_000), a1.waitFor(COLLECTION, last, 3_600_000)]);
  const ingestSeconds = (performance.now() - t0) / 1000;
  console.error(`written and applied: ${N} vectors, ${last} log messages in ${fmt(ingestSeconds, 1)} s; ${movedVectors} in shard 1's buckets`);
  const own = (s: Store): number => s.collection(COLLECTION).info().count;
  if (own(s0) + own(s1) !== N || own(s1) !== movedVectors) throw new Error(`applied ${own(s0)} + ${own(s1)} documents of ${N}`);
  const kept = own(s0);

  /** Puts shard 1's buckets to m0 as a pending move; resolves once m0 loaded them and reached the stream's end. */
  const move = async (id: string, expected: number): Promise<number> => {
    const owner = map.owner.map(() => 0);
    const current = (await catalog.shardMap(COLLECTION))!;
    const t = performance.now();
    await catalog.casShardMap(COLLECTION, { ...current.map, next: { shards: map.shards, owner, id } }, current.revision);
    const end = await log.lastSeq(COLLECTION);
    for (;;) {
      const s = a0.states()[0];
      if (s?.move === id && s.processed >= end) break;
      await sleep(5);
    }
    const seconds = (performance.now() - t) / 1000;
    if (own(s0) !== expected) throw new Error(`after move ${id} m0 holds ${own(s0)} documents, not ${expected}`);
    return seconds;
  };
  /** Drops the pending move; resolves once m0 dropped the loaded documents again. */
  const abort = async (): Promise<void> => {
    const current = (await catalog.shardMap(COLLECTION))!;
    const { next: _next, ...back } = current.map as ShardMap;
    await catalog.casShardMap(COLLECTION, back, current.revision);
    while (own(s0) !== kept) await sleep(50);
  };

  // What reading the whole log costs alone (no store write): a move from the log reads all of it.
  const tr = performance.now();
  const reader = await jetstream(nc).consumers.get(streamName('ragwire', COLLECTION), { deliver_policy: 'by_start_sequence' as never, opt_start_seq: 1 });
  const messages = await reader.consume({ max_messages: 512 });
  let bytes = 0;
  for await (const m of messages) {
    bytes += m.data.length;
    if (m.seq >= last) break;
  }
  await messages.close();
  rows.push({
    path: 'reading the whole log alone (no store write)',
    vectors: 0,
    seconds: (performance.now() - tr) / 1000,
    detail: `${fmt(last)} messages, ${fmt(bytes / 2 ** 20)} MiB`,
  });
  console.error(`${rows.at(-1)!.path}: ${fmt(rows.at(-1)!.seconds, 2)} s`);

  // 1. From the log.
  const fromLog = await move('from-log', N);
  const l1 = loads.at(-1)!;
  rows.push({ path: 'move from the log (replay from its start)', vectors: movedVectors, seconds: fromLog, detail: `${fmt(l1.replayed)} messages replayed` });
  console.error(`${rows.at(-1)!.path}: ${fmt(fromLog, 2)} s`);
  await abort();

  // 2. From a snapshot: m1 restarts with a snapshot due at its next pause, one write gives it that
  // pause, and the stream is trimmed up to the snapshot.
  await a1.close();
  a1 = new LogApplier({ connection: nc, member: 'm1', target: storeApplyTarget(s1), snapshotEvery: 1 });
  appliers.push(a1);
  await a1.start();
  const snapshots = await SnapshotStore.open(nc);
  const tu = performance.now();
  const extra = `x${N}`;
  await log.appendUpsert(COLLECTION, { dim: DIM, ids: [extra], vectors: randomVectors(1) });
  let snapshot: Awaited<ReturnType<SnapshotStore['get']>>;
  while ((snapshot = await snapshots.get(COLLECTION, bucketSetKey(moved)))?.seq === undefined) await sleep(100);
  const uploadSeconds = (performance.now() - tu) / 1000;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.purge(streamName('ragwire', COLLECTION), { seq: snapshot!.seq + 1 });
  const first = (await jsm.streams.info(streamName('ragwire', COLLECTION))).state.first_seq;
  const extraInMoved = moved.has(bucketOf(extra, BUCKETS)) ? 1 : 0;
  const fromSnapshot = await move('from-snapshot', N + 1);
  const l2 = loads.at(-1)!;
  rows.push({
    path: 'move from a snapshot (stream trimmed to it)',
    vectors: movedVectors + extraInMoved,
    seconds: fromSnapshot,
    detail: `${fmt(l2.documents)} documents from the snapshot, ${fmt(l2.replayed)} messages replayed; stream starts at ${first}; the upload took ${fmt(uploadSeconds, 1)} s`,
  });
  console.error(`${rows.at(-1)!.path}: ${fmt(fromSnapshot, 2)} s`);

  // Beside them: the moved vectors upserted into an empty store directly, in batches of BATCH.
  const direct = await emptyStore();
  stores.push(direct);
  await direct.createCollection({ name: COLLECTION, dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
  const td = performance.now();
  for (let left = movedVectors, n = 0; left > 0; left -= BATCH, n++) {
    const count = Math.min(BATCH, left);
    await direct.collection(COLLECTION).upsert({ ids: Array.from({ length: count }, (_, i) => `r${n}-${i}`), vectors: randomVectors(count) });
  }
  rows.push({
    path: 'direct upserts into an empty store (re-ingest)',
    vectors: movedVectors,
    seconds: (performance.now() - td) / 1000,
    detail: `batches of ${BATCH}`,
  });
  await log.close();
} finally {
  for (const a of appliers) await a.close().catch(() => undefined);
  for (const s of stores) await s.close().catch(() => undefined);
  await nc.close();
  await nats.cleanup();
  killAllProcesses();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

const direct = rows.at(-1)!;
const table = renderTable(
  ['path', 'vectors moved', 'seconds', 'vectors/s', 'x direct time', 'detail'],
  rows.map((r) => [
    r.path,
    r.vectors ? fmt(r.vectors) : '-',
    fmt(r.seconds, 2),
    r.vectors ? fmt(r.vectors / r.seconds) : '-',
    fmt(r.seconds / direct.seconds, 2),
    r.detail,
  ]),
  true,
);
const machine = describeMachine();
console.log(
  `${machineLine(machine)}\n${N} x ${DIM}-d f32 vectors, flat, ${BUCKETS} buckets on 2 shards of one member; shard 1's buckets moved to shard 0's member; nats-server R1 on loopback\n\n${table}`,
);
const out = join(here, '../../results');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, `fleet-move-${new Date().toISOString().slice(0, 10)}-${N}.json`),
  JSON.stringify({ machine, vectors: N, dim: DIM, buckets: BUCKETS, batch: BATCH, rows }, null, 2),
);
