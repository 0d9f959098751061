import type { Logger } from 'pino';
import type { ProxyConfig } from '../config';
import type { ProxyMetrics } from '../metrics';
import { Upstream, parseVllmGauges } from './upstream';

/**
 * Every upstream, their health and the models they serve. A background loop
 * scrapes each upstream's /metrics (liveness and vLLM's gauges) and, on
 * start and on recovery, its /v1/models.
 */
export class UpstreamSet {
  readonly upstreams: Upstream[];
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  /** Called when an upstream becomes healthy or gains capacity, so queued work can go. */
  onCapacity: () => void = () => {};

  constructor(
    private readonly config: Readonly<ProxyConfig>,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
  ) {
    this.upstreams = config.upstreams.map((url) => new Upstream(url, config));
  }

  /** Checks every upstream once (models included), then keeps checking in the background. */
  async start(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => this.check(u, true)));
    this.timer = setInterval(() => {
      const withModels = ++this.ticks % 10 === 0;
      for (const u of this.upstreams) void this.check(u, withModels || !u.healthy || u.models.size === 0);
    }, this.config.health.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.upstreams.map((u) => u.close()));
  }

  /** Models served: the configured list, else the union of what upstreams list. */
  models(): string[] {
    if (this.config.models.length > 0) return [...this.config.models];
    const all = new Set<string>();
    for (const u of this.upstreams) for (const m of u.models) all.add(m);
    return [...all];
  }

  isServed(model: string): boolean {
    if (this.config.models.length > 0) return this.config.models.includes(model);
    return this.upstreams.some((u) => u.models.has(model));
  }

  /** Upstreams that serve `model` (all of them when none has listed its models yet). */
  serving(model: string): Upstream[] {
    const listed = this.upstreams.filter((u) => u.models.has(model));
    return listed.length > 0 ? listed : this.upstreams.filter((u) => u.models.size === 0);
  }

  /** Passive health: a connection failure takes an upstream out until its next good check. */
  reportFailure(u: Upstream): void {
    if (u.healthy) this.log.warn({ upstream: u.url }, 'upstream marked unhealthy');
    u.markFailure();
    this.metrics.healthy.set({ upstream: u.url }, 0);
  }

  private async check(u: Upstream, withModels: boolean): Promise<void> {
    const wasHealthy = u.healthy;
    try {
      const res = await u.pool.request({
        method: 'GET',
        path: '/metrics',
        headersTimeout: this.config.health.timeoutMs,
        bodyTimeout: this.config.health.timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
      const before = u.limit;
      u.applyGauges(parseVllmGauges(text));
      if (withModels) {
        const models = await u.pool.request({
          method: 'GET',
          path: '/v1/models',
          headersTimeout: this.config.health.timeoutMs,
          bodyTimeout: this.config.health.timeoutMs,
        });
        const body = (await models.body.json()) as { data?: { id?: unknown }[] };
        if (models.statusCode === 200 && Array.isArray(body.data)) {
          u.listModels(body.data.map((m) => m.id).filter((id): id is string => typeof id === 'string'));
        }
      }
      u.markSuccess();
      if (!wasHealthy) this.log.info({ upstream: u.url }, 'upstream healthy');
      if (!wasHealthy || u.limit > before) this.onCapacity();
    } catch (error) {
      if (wasHealthy) this.log.warn({ upstream: u.url, err: (error as Error).message }, 'upstream health check failed');
      u.markFailure();
    }
    this.metrics.healthy.set({ upstream: u.url }, u.healthy ? 1 : 0);
    this.metrics.concurrencyLimit.set({ upstream: u.url }, u.limit);
  }
}
