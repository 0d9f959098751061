// A shard server as a member of a fleet (--nats): it registers with heartbeats, follows the write log of
// every fleet collection into its store (@ragwire/fleet LogApplier), holds queries that carry minSeq until
// applied, and exports its position and lag. Without --nats none of this runs.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import { LogApplier, Membership, connectNats, retryNats, type BucketLag } from '@ragwire/fleet';
import { isRagwireError } from '@ragwire/protocol';
import type { Store } from '@ragwire/store';
import { storeApplyTarget } from './store-apply-target';
import type { ShardMetrics } from './metrics';

export interface FleetOptions {
  /** NATS URLs (every node of a cluster). */
  nats: string[];
  /** This member's id in the shard map. Default: host name and the first listen port. */
  member?: string;
  /** Subject and bucket prefix. Default 'ragwire'. */
  prefix?: string;
  /** /readyz answers 200 only while every collection is within this many log messages of its stream's end. Default 1000. */
  readyMaxLag?: number; // messages
  /** A query with minSeq waits at most this long for the log to be applied, then RAGWIRE_ERR_REPLICA_BEHIND. Default 2000 ms. */
  minSeqWaitMs?: number; // ms
  /** Upload a snapshot of each collection to the object store after this many log messages. Default 50,000. */
  snapshotEvery?: number; // messages
  /** Consecutive log messages applied as one store write, at most (1: each alone). Default 128. */
  applyGroup?: number; // messages
  /** Membership heartbeat period; the members bucket's TTL is three periods. Default 2000 ms. */
  heartbeatMs?: number; // ms
}

export interface FleetMember {
  readonly member: string;
  /** Caught up within readyMaxLag on every collection. */
  ready(): boolean;
  /** Holds a query until `collection` is applied up to `minSeq` (RAGWIRE_ERR_REPLICA_BEHIND after minSeqWaitMs). */
  waitFor(collection: string, minSeq: number): Promise<void>;
  /**
   * The documents a query routed by shard-map `epoch` may answer with (undefined: all): RAGWIRE_ERR_STALE_EPOCH
   * when this member's map is newer, RAGWIRE_ERR_REPLICA_BEHIND when it has not seen `epoch` within minSeqWaitMs.
   */
  servedAt(collection: string, epoch: number): Promise<((id: string) => boolean) | undefined>;
  close(): Promise<void>;
}

/** Buckets per collection exported by ragwire_fleet_bucket_lag: those with the most messages past the position. */
const BUCKET_LAG_SERIES = 10;
/**
 * How long a starting member retries JetStream calls that time out or find no responder (a NATS node
 * restarting, a leader being elected) before it gives up (docs/operations.md, "Running a fleet").
 */
const START_RETRY_MS = 60_000;

export async function startFleetMember(
  options: FleetOptions,
  server: { store: Store; addresses: string[]; adminUrl: string | undefined; log: Logger; metrics: ShardMetrics },
): Promise<FleetMember> {
  const { log } = server;
  const member = options.member ?? `${hostname()}-${new URL(server.addresses[0]!.replace(/^unix:/, 'tcp:')).port || 'unix'}`;
  const readyMaxLag = options.readyMaxLag ?? 1000;
  const minSeqWaitMs = options.minSeqWaitMs ?? 2000;
  const heartbeatMs = options.heartbeatMs ?? 2000;
  const prefix = options.prefix ?? 'ragwire';
  const nc = await connectNats({ servers: options.nats });
  const newApplier = (): LogApplier =>
    new LogApplier({
      connection: nc,
      member,
      target: storeApplyTarget(server.store),
      prefix,
      ...(options.snapshotEvery !== undefined ? { snapshotEvery: options.snapshotEvery } : {}),
      ...(options.applyGroup !== undefined ? { group: { messages: options.applyGroup } } : {}),
      onSnapshot: (event) => log.info(event, event.restored ? 'fleet snapshot restored: replaying the log after it' : 'fleet snapshot uploaded'),
      onLoad: (event) => log.info(event, 'fleet: buckets a move gave this member loaded; its read of the log applies them from here'),
      onDrop: (event) => log.info(event, 'fleet: documents of buckets that moved away dropped after the grace'),
      onProblem: ({ collection, seq, error }) =>
        log.warn({ collection, seq, err: error, code: isRagwireError(error) ? error.code : undefined }, 'write log: entry refused or feed restarting'),
    });
  // A member starting while a NATS node restarts (a leader being elected) waits for it, within a bound.
  const open = async (): Promise<{ applier: LogApplier; membership: Membership }> => {
    const applier = newApplier();
    try {
      await applier.start();
      return { applier, membership: await Membership.open(nc, { prefix, ttlMs: heartbeatMs * 3 }) };
    } catch (error) {
      await applier.close();
      throw error;
    }
  };
  const { applier, membership } = await retryNats(open, START_RETRY_MS, (error, attempt) =>
    log.warn({ err: error, attempt }, 'fleet: NATS did not answer at start; retrying'),
  ).catch(async (error: unknown) => {
    await nc.close().catch(() => undefined);
    throw error;
  });
  const stopBeat = membership.heartbeat(
    () => ({
      id: member,
      addresses: server.addresses,
      ...(server.adminUrl ? { admin: server.adminUrl } : {}),
      collections: Object.fromEntries(
        applier.states().map((s) => [s.collection, { seq: s.processed, stored: s.stored, epoch: s.epoch, ...(s.move ? { move: s.move } : {}) }]),
      ),
    }),
    heartbeatMs,
    (error) => log.warn({ err: error }, 'membership heartbeat failed'),
  );
  const registers = [server.metrics.registry];
  new Gauge({
    name: 'ragwire_fleet_applied_seq',
    help: 'Fleet: the write log sequence each collection applied (or passed over) up to.',
    labelNames: ['collection'],
    registers,
    collect() {
      this.reset();
      for (const s of applier.states()) this.set({ collection: s.collection }, s.processed);
    },
  });
  new Gauge({
    name: 'ragwire_fleet_log_lag',
    help: "Fleet: messages between each collection's applied position and its stream's end (every bucket this member follows).",
    labelNames: ['collection'],
    registers,
    collect() {
      this.reset();
      for (const s of applier.states()) this.set({ collection: s.collection }, Math.max(0, s.last - s.processed));
    },
  });
  new Gauge({
    name: 'ragwire_fleet_log_trimmed',
    help: 'Fleet: 1 for a collection whose stream was trimmed past this replica (restore it from a snapshot).',
    labelNames: ['collection'],
    registers,
    collect() {
      this.reset();
      for (const s of applier.states()) this.set({ collection: s.collection }, s.trimmed ? 1 : 0);
    },
  });
  // One scan of each collection's tail per scrape, shared by the three per-bucket gauges: a scrape starts
  // every collect in one turn of the event loop (prom-client Registry.metrics).
  let lagScan: Promise<Map<string, BucketLag>> | undefined;
  const bucketLags = (): Promise<Map<string, BucketLag>> => {
    if (lagScan) return lagScan;
    const result = (async () => {
      const lags = new Map<string, BucketLag>();
      for (const s of applier.states()) {
        if (s.last <= s.processed) continue;
        try {
          const lag = await applier.bucketLag(s.collection);
          if (lag) lags.set(s.collection, lag);
        } catch (error) {
          log.warn({ collection: s.collection, err: error, code: isRagwireError(error) ? error.code : undefined }, 'fleet: lag per bucket not read');
        }
      }
      return lags;
    })();
    lagScan = result;
    setImmediate(() => (lagScan = undefined));
    return result;
  };
  new Gauge({
    name: 'ragwire_fleet_bucket_lag',
    help: `Fleet: messages past the applied position of the ${BUCKET_LAG_SERIES} followed buckets with the most (bucket "all": deletes by filter or of everything); none when caught up.`,
    labelNames: ['collection', 'bucket'],
    registers,
    async collect() {
      const lags = await bucketLags();
      this.reset();
      for (const [collection, lag] of lags) {
        const top = [...lag.buckets].sort((a, b) => b[1] - a[1]).slice(0, BUCKET_LAG_SERIES);
        for (const [bucket, n] of top) this.set({ collection, bucket: String(bucket) }, n);
      }
    },
  });
  new Gauge({
    name: 'ragwire_fleet_bucket_lag_max',
    help: 'Fleet: the largest number of messages past the applied position of any one followed bucket.',
    labelNames: ['collection'],
    registers,
    async collect() {
      const lags = await bucketLags();
      this.reset();
      for (const s of applier.states()) this.set({ collection: s.collection }, Math.max(0, ...(lags.get(s.collection)?.buckets.values() ?? [])));
    },
  });
  new Gauge({
    name: 'ragwire_fleet_buckets_behind',
    help: 'Fleet: followed buckets with at least one message past the applied position (counted over at most the first 10,000 messages of the tail).',
    labelNames: ['collection'],
    registers,
    async collect() {
      const lags = await bucketLags();
      this.reset();
      for (const s of applier.states()) this.set({ collection: s.collection }, lags.get(s.collection)?.buckets.size ?? 0);
    },
  });
  log.info({ member, nats: options.nats, prefix }, 'fleet member: following the write log');
  return {
    member,
    ready: () => !nc.isClosed() && applier.caughtUp(readyMaxLag),
    waitFor: (collection, minSeq) => applier.waitFor(collection, minSeq, minSeqWaitMs),
    servedAt: (collection, epoch) => applier.servedAt(collection, epoch, minSeqWaitMs),
    async close() {
      stopBeat();
      await membership.leave(member);
      await applier.close();
      await nc.close().catch(() => undefined);
    },
  };
}
