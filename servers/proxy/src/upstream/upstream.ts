import { Pool } from 'undici';
import type { ProxyConfig } from '../config';

/** vLLM's gauges as last scraped from an upstream's /metrics. */
export interface UpstreamGauges {
  running: number;
  waiting: number;
  kvCacheUsage: number;
}

/**
 * Reads vLLM's scheduler gauges from Prometheus text, summing over label sets
 * (one per model). Accepts the names of vLLM >= 0.10 and the older
 * `vllm:gpu_cache_usage_perc`.
 */
export function parseVllmGauges(text: string): UpstreamGauges {
  const gauges: UpstreamGauges = { running: 0, waiting: 0, kvCacheUsage: 0 };
  for (const line of text.split('\n')) {
    if (line.length === 0 || line[0] === '#') continue;
    const name = line.slice(0, line.search(/[{ ]/));
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    if (name === 'vllm:num_requests_running') gauges.running += value;
    else if (name === 'vllm:num_requests_waiting') gauges.waiting += value;
    else if (name === 'vllm:kv_cache_usage_perc' || name === 'vllm:gpu_cache_usage_perc') gauges.kvCacheUsage = Math.max(gauges.kvCacheUsage, value);
  }
  return gauges;
}

/**
 * One vLLM server: a keep-alive connection pool, the requests in flight, an
 * adaptive concurrency limit, health and the models it serves.
 */
export class Upstream {
  readonly pool: Pool;
  #inflight = 0;
  /** When each request in flight started (performance.now()), by lease number. */
  readonly #leaseStarts = new Map<number, number>();
  /** Numbers the leases taken. */
  #leases = 0;
  #limit: number;
  #healthy = true;
  /** Consecutive failed health checks or connection failures. */
  #failures = 0;
  #models: ReadonlySet<string> = new Set<string>();
  #gauges: UpstreamGauges = { running: 0, waiting: 0, kvCacheUsage: 0 };
  /** Consecutive health checks that saw the upstream's own queue above the threshold. */
  #waitingChecks = 0;

  constructor(
    readonly url: string,
    private readonly config: Readonly<ProxyConfig>,
  ) {
    this.pool = new Pool(url, {
      connections: config.connectionsPerUpstream,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      connectTimeout: config.connectTimeoutMs,
      headersTimeout: config.upstreamHeadersTimeoutMs,
      bodyTimeout: config.upstreamTimeoutMs,
    });
    this.#limit = config.admission.maxConcurrencyPerUpstream;
  }

  /** Requests in flight: leases taken and not yet released. */
  get inflight(): number {
    return this.#inflight;
  }

  /** The adaptive concurrency limit (see applyGauges). */
  get limit(): number {
    return this.#limit;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Consecutive failed health checks or connection failures. */
  get failures(): number {
    return this.#failures;
  }

  /** The models it listed at its last /v1/models; empty before it listed any. */
  get models(): ReadonlySet<string> {
    return this.#models;
  }

  /** vLLM's gauges as last scraped. */
  get gauges(): UpstreamGauges {
    return this.#gauges;
  }

  get hasCapacity(): boolean {
    return this.#healthy && this.#inflight < this.#limit;
  }

  /**
   * Counts one request in flight from now; the returned function ends it
   * (once: later calls do nothing).
   */
  lease(): () => void {
    const n = this.#leases++;
    this.#inflight++;
    this.#leaseStarts.set(n, performance.now());
    return () => {
      if (!this.#leaseStarts.delete(n)) return;
      this.#inflight--;
    };
  }

  /** When each request in flight started (performance.now()). */
  leaseStarts(): IterableIterator<number> {
    return this.#leaseStarts.values();
  }

  /** Records the models the upstream listed. */
  listModels(ids: Iterable<string>): void {
    this.#models = new Set(ids);
  }

  /**
   * Adjusts the concurrency limit from the upstream's own gauges: when vLLM
   * keeps queueing internally (waiting above the threshold in
   * `upstreamWaitingChecks` checks in a row) or its KV cache is nearly full,
   * the limit drops to what it is actually running, so the excess waits in
   * the proxy's queue, where it can be prioritised and shed; while the queue
   * has not persisted yet the limit holds; otherwise it grows back additively.
   */
  applyGauges(gauges: UpstreamGauges): void {
    this.#gauges = gauges;
    const {
      minConcurrencyPerUpstream: min,
      maxConcurrencyPerUpstream: max,
      upstreamWaitingHigh,
      upstreamWaitingChecks,
      kvCacheUsageHigh,
    } = this.config.admission;
    this.#waitingChecks = gauges.waiting > upstreamWaitingHigh ? this.#waitingChecks + 1 : 0;
    if (this.#waitingChecks >= upstreamWaitingChecks || gauges.kvCacheUsage > kvCacheUsageHigh) {
      this.#limit = Math.max(min, Math.min(this.#limit, Math.max(1, gauges.running)));
    } else if (this.#waitingChecks === 0) {
      this.#limit = Math.min(max, this.#limit + Math.max(1, Math.ceil(this.#limit / 4)));
    }
  }

  markFailure(): void {
    this.#failures++;
    this.#healthy = false;
  }

  markSuccess(): void {
    this.#failures = 0;
    this.#healthy = true;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
