// Prometheus metrics of one shard server, on a registry of its own (several servers may share a process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '@ragwire/store';
import type { ConnectionLimits } from './connection-limits';
import type { NativePlaneStats } from './listener';
import { RequestLatency } from './request-latency';

/** Why the server closed a connection (docs/operations.md "Limits and timeouts"). */
export type CloseReason = 'max_connections' | 'hello_timeout' | 'idle_timeout' | 'frame_timeout' | 'slow_consumer' | 'partial_frame_budget' | 'bad_stream';

/** prom-client children per (type, code), so the hot path does not build label objects. */
export class RequestMeters {
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly timers = new Map<string, Histogram.Internal<'type'>>();
  constructor(private readonly metrics: ShardMetrics) {}

  record(type: string, code: string, seconds: number): void {
    const key = `${type}\u0000${code}`;
    let c = this.counters.get(key);
    if (c === undefined) this.counters.set(key, (c = this.metrics.requests.labels(type, code)));
    c.inc();
    let h = this.timers.get(type);
    if (h === undefined) this.timers.set(type, (h = this.metrics.latency.labels(type)));
    h.observe(seconds);
  }
}

/** What the connections hold right now, read when /metrics is scraped. */
export interface ConnectionBytes {
  unsentReplyBytes: number;
}

export class ShardMetrics {
  readonly registry = new Registry();

  /** The native data plane's listeners, read when /metrics is scraped (observeNativePlane). */
  #nativePlanes: () => NativePlaneStats[] = () => [];
  /** Native answers already counted in `requests`. */
  #nativeAnswersCounted = 0;
  readonly requests = new Counter({
    name: 'ragwire_shard_requests_total',
    help: 'Requests answered, by message type and outcome (ok or the error code); queries the native data plane answered count as query ok.',
    labelNames: ['type', 'code'],
    registers: [this.registry],
    collect: () => {
      const answered = this.#nativePlanes().reduce((n, p) => n + (p.stats.answered ?? 0), 0);
      if (answered > this.#nativeAnswersCounted) this.requests.labels('query', 'ok').inc(answered - this.#nativeAnswersCounted);
      this.#nativeAnswersCounted = Math.max(this.#nativeAnswersCounted, answered);
    },
  });
  readonly latency = new RequestLatency(this.registry);
  readonly inFlight = new Gauge({
    name: 'ragwire_shard_inflight_requests',
    help: 'Requests decoded and not yet answered (the server queue depth).',
    registers: [this.registry],
  });
  readonly connections = new Gauge({ name: 'ragwire_shard_connections', help: 'Open client connections.', registers: [this.registry] });
  readonly frameErrors = new Counter({
    name: 'ragwire_shard_frame_errors_total',
    help: 'Frames the decoder refused, by error code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly pausedConnections = new Gauge({
    name: 'ragwire_shard_paused_connections',
    help: 'Connections not read from: maxInFlightPerConnection requests in flight, or replyHighWaterBytes of replies unread.',
    registers: [this.registry],
  });
  readonly closedConnections = new Counter({
    name: 'ragwire_shard_connections_closed_total',
    help: 'Connections the server closed for breaking a limit, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly partialFrameBytes = new Gauge({
    name: 'ragwire_shard_partial_frame_bytes',
    help: 'Bytes held for partial frames over all connections (bounded by maxPartialFrameBytes).',
    registers: [this.registry],
  });
  /** The request counters and timers, resolved once per label set. */
  readonly requestMeters = new RequestMeters(this);
  readonly snapshotRebuilds = new Counter({
    name: 'ragwire_shard_snapshot_rebuilds_total',
    help: 'Collections whose snapshot was missing, corrupt, stale or inconsistent at open, so the index was rebuilt from LMDB, by reason.',
    labelNames: ['collection', 'reason'],
    registers: [this.registry],
  });

  constructor(store: () => Store | undefined, defaultMetrics = true) {
    const registers = [this.registry];
    new Gauge({
      name: 'ragwire_shard_collection_documents',
      help: 'Live documents per collection (the index size in vectors).',
      labelNames: ['collection'],
      registers,
      collect() {
        this.reset();
        for (const info of store()?.describe() ?? []) this.set({ collection: info.name }, info.count);
      },
    });
    new Gauge({
      name: 'ragwire_shard_collection_stat',
      help: "Each collection's numeric store stats (index bytes, deleted rows, ...), by stat name.",
      labelNames: ['collection', 'stat'],
      registers,
      collect() {
        this.reset();
        const s = store();
        for (const info of s?.describe() ?? []) {
          for (const [stat, value] of Object.entries(s!.stats(info.name))) {
            if (typeof value === 'number' && Number.isFinite(value)) this.set({ collection: info.name, stat }, value);
          }
        }
      },
    });
    new Gauge({
      name: 'ragwire_shard_collection_device',
      help: "Where each collection's index runs: 1 for its device's name and kind (cpu, opencl or cuda).",
      labelNames: ['collection', 'device', 'kind'],
      registers,
      collect() {
        this.reset();
        const s = store();
        for (const info of s?.describe() ?? []) {
          const stats = s!.stats(info.name);
          this.set({ collection: info.name, device: String(stats.device), kind: String(stats['device.kind']) }, 1);
        }
      },
    });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'ragwire_shard_' });
  }

  /** Exports the connection limits in force and what the connections hold against them. */
  observeConnections(limits: ConnectionLimits, bytes: () => ConnectionBytes): void {
    const registers = [this.registry];
    const limit = new Gauge({
      name: 'ragwire_shard_connection_limit',
      help: 'The connection limits in force, by name (docs/operations.md).',
      labelNames: ['name'],
      registers,
    });
    for (const [name, value] of Object.entries(limits)) limit.set({ name }, value);
    new Gauge({
      name: 'ragwire_shard_unsent_reply_bytes',
      help: 'Reply bytes written and not yet sent, over all connections.',
      registers,
      collect() {
        this.set(bytes().unsentReplyBytes);
      },
    });
  }

  /**
   * Exports the counters of the native data plane's loop threads (native+tcp:// and ucx:// listeners),
   * summed, and counts the queries they answered in `requests` and `latency` too.
   */
  observeNativePlane(planes: () => NativePlaneStats[]): void {
    this.#nativePlanes = planes;
    this.latency.addNativeAnswers(() => planes().map((p) => p.answerTimes));
    new Gauge({
      name: 'ragwire_shard_native_plane',
      help: "The native data plane's counters by transport and name: frames and queries walked, queries answered natively and declined to JavaScript; native+tcp:// also connections accepted, open and ready, unsent bytes and waits; ucx:// the progress thread's sleeps.",
      labelNames: ['transport', 'stat'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { transport, stats } of planes()) for (const [stat, value] of Object.entries(stats)) this.inc({ transport, stat }, value);
      },
    });
  }
}
