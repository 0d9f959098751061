import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A metric whose children can be resolved by label values, in `labelNames` order. */
interface Labelled<T> {
  labels(...values: string[]): T;
}

const children = new WeakMap<object, Map<string, unknown>>();

/**
 * The child of `metric` for these label values (in `labelNames` order),
 * resolved once and kept: prom-client hashes the labels on every
 * `inc({...})`, which the per-request path can skip. As many children as
 * prom-client itself keeps; the registry is never reset.
 */
export function child<T>(metric: Labelled<T>, ...values: string[]): T {
  let byKey = children.get(metric);
  if (!byKey) children.set(metric, (byKey = new Map()));
  const key = values.length === 1 ? values[0]! : values.join('\u0000');
  let found = byKey.get(key) as T | undefined;
  if (found === undefined) byKey.set(key, (found = metric.labels(...values)));
  return found;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The proxy's Prometheus metrics, on a registry of its own (several proxies may share a process). */
export class ProxyMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'ragwire_proxy_requests_total',
    help: 'Requests answered, by model, route and status.',
    labelNames: ['model', 'route', 'status'],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'ragwire_proxy_queue_depth',
    help: 'Requests waiting for an upstream slot, by model.',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly inflight = new Gauge({
    name: 'ragwire_proxy_upstream_inflight',
    help: 'Requests in flight to each upstream.',
    labelNames: ['upstream'],
    registers: [this.registry],
  });
  readonly concurrencyLimit = new Gauge({
    name: 'ragwire_proxy_upstream_concurrency_limit',
    help: 'Adaptive concurrency limit of each upstream.',
    labelNames: ['upstream'],
    registers: [this.registry],
  });
  readonly healthy = new Gauge({
    name: 'ragwire_proxy_upstream_healthy',
    help: '1 when the upstream passed its last health check.',
    labelNames: ['upstream'],
    registers: [this.registry],
  });
  readonly upstreamLatency = new Histogram({
    name: 'ragwire_proxy_upstream_latency_seconds',
    help: 'Upstream call duration (to the last byte), by model and upstream.',
    labelNames: ['model', 'upstream'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly ttft = new Histogram({
    name: 'ragwire_proxy_ttft_seconds',
    help: 'Time to first streamed byte seen by the client, by model and upstream.',
    labelNames: ['model', 'upstream'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'ragwire_proxy_queue_wait_seconds',
    help: 'Time spent waiting for an upstream slot, by model.',
    labelNames: ['model'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'ragwire_proxy_batch_size',
    help: 'Inputs per coalesced upstream call, by kind and model.',
    labelNames: ['kind', 'model'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'ragwire_proxy_retries_total',
    help: 'Upstream attempts retried, by model and the upstream that failed.',
    labelNames: ['model', 'upstream'],
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'ragwire_proxy_shed_total',
    help: 'Requests refused with 429, by model and reason.',
    labelNames: ['model', 'reason'],
    registers: [this.registry],
  });
  readonly cancelled = new Counter({
    name: 'ragwire_proxy_client_cancelled_total',
    help: 'Requests whose client disconnected before the answer was complete.',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly cache = new Counter({
    name: 'ragwire_proxy_cache_total',
    help: 'Response cache lookups, by result (hit, miss).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly keyTokens = new Counter({
    name: 'ragwire_proxy_key_tokens_total',
    help: 'Tokens spent per API key (name), from the usage upstreams reported.',
    labelNames: ['key'],
    registers: [this.registry],
  });
  readonly routed = new Counter({
    name: 'ragwire_proxy_routed_total',
    help: 'Routing decisions, by upstream and reason (affinity, least-outstanding, round-robin, failover).',
    labelNames: ['upstream', 'reason'],
    registers: [this.registry],
  });

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'ragwire_proxy_' });
  }
}
