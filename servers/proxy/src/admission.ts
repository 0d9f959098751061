import type { ProxyConfig } from './config';
import { ProxyError, retryAfterHeaders } from './errors';
import type { ProxyMetrics } from './metrics';
import type { RouteReason, Router } from './router';
import type { Upstream } from './upstream';
import type { UpstreamSet } from './upstream-set';

/** A slot on one upstream; `release` exactly once (later calls do nothing). */
export interface Lease {
  upstream: Upstream;
  reason: RouteReason | 'failover';
  queuedMs: number;
  release(latencyMs?: number): void;
}

export interface AdmissionRequest {
  model: string;
  /** Text whose prefix decides affinity (the rendered prompt). */
  prefixText?: string;
  /** Lower goes first, as vLLM's `priority`; default 0. */
  priority: number;
  signal?: AbortSignal;
  /** Upstreams to avoid (failed earlier attempts); used only when another can take the request. */
  exclude?: ReadonlySet<Upstream>;
}

interface Waiter {
  request: AdmissionRequest;
  enqueuedAt: number;
  resolve(lease: Lease): void;
  reject(error: Error): void;
  cleanup(): void;
}

/**
 * Admission control: a request gets an upstream slot at once when one is free
 * and nobody waits ahead of it; otherwise it waits in a bounded per-model
 * queue ordered by priority (FIFO within a priority). A full queue sheds at
 * once with 429 (a newcomer of better priority evicts the worst waiter
 * instead); a wait longer than `maxQueueWaitMs` also ends in 429.
 */
export class AdmissionController {
  private readonly queues = new Map<string, Waiter[]>();
  /** Smoothed upstream latency per model, for Retry-After estimates. */
  private readonly latencyEwma = new Map<string, number>();

  constructor(
    private readonly config: Readonly<ProxyConfig['admission']>,
    private readonly upstreams: UpstreamSet,
    private readonly router: Router,
    private readonly metrics: ProxyMetrics,
  ) {
    upstreams.onCapacity = () => this.drain();
  }

  queueDepth(model: string): number {
    return this.queues.get(model)?.length ?? 0;
  }

  acquire(request: AdmissionRequest): Promise<Lease> {
    const serving = this.upstreams.serving(request.model);
    if (!serving.some((u) => u.healthy)) {
      return Promise.reject(new ProxyError('no_healthy_upstream', `no healthy upstream serves model "${request.model}"`, null, retryAfterHeaders(1000)));
    }
    const queue = this.queues.get(request.model) ?? [];
    this.queues.set(request.model, queue);
    if (queue.length === 0) {
      const lease = this.tryRoute(request, 0);
      if (lease) return Promise.resolve(lease);
    }
    if (queue.length >= this.config.maxQueue) {
      const worst = queue[queue.length - 1];
      if (!worst || worst.request.priority <= request.priority) return Promise.reject(this.shed(request.model, 'queue_full'));
      queue.pop();
      worst.cleanup();
      worst.reject(this.shed(request.model, 'queue_full'));
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        request,
        enqueuedAt: performance.now(),
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          request.signal?.removeEventListener('abort', onAbort);
        },
      };
      const remove = () => {
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        this.metrics.queueDepth.set({ model: request.model }, queue.length);
      };
      const timer = setTimeout(() => {
        remove();
        waiter.cleanup();
        reject(this.shed(request.model, 'queue_timeout'));
      }, this.config.maxQueueWaitMs);
      const onAbort = () => {
        remove();
        waiter.cleanup();
        reject(request.signal?.reason instanceof Error ? request.signal.reason : new Error('aborted'));
      };
      request.signal?.addEventListener('abort', onAbort, { once: true });
      // Insert after every waiter of the same or better priority.
      let at = queue.length;
      while (at > 0 && queue[at - 1]!.request.priority > request.priority) at--;
      queue.splice(at, 0, waiter);
      this.metrics.queueDepth.set({ model: request.model }, queue.length);
    });
  }

  /** Hands freed slots to waiters, best priority first. */
  drain(): void {
    for (const [model, queue] of this.queues) {
      while (queue.length > 0) {
        const head = queue[0]!;
        const lease = this.tryRoute(head.request, performance.now() - head.enqueuedAt);
        if (!lease) break;
        queue.shift();
        head.cleanup();
        head.resolve(lease);
      }
      this.metrics.queueDepth.set({ model }, queue.length);
    }
  }

  private tryRoute(request: AdmissionRequest, queuedMs: number): Lease | undefined {
    const serving = this.upstreams.serving(request.model);
    let candidates = serving.filter((u) => u.hasCapacity);
    if (candidates.length === 0) return undefined;
    let failover = false;
    if (request.exclude && request.exclude.size > 0) {
      const others = candidates.filter((u) => !request.exclude!.has(u));
      if (others.length > 0) {
        failover = true;
        candidates = others;
      }
    }
    const picked = this.router.pick(candidates, request.prefixText);
    const upstream = picked.upstream;
    upstream.inflight++;
    this.metrics.inflight.set({ upstream: upstream.url }, upstream.inflight);
    const reason = failover ? 'failover' : picked.reason;
    this.metrics.routed.inc({ upstream: upstream.url, reason });
    if (queuedMs > 0) this.metrics.queueWait.observe({ model: request.model }, queuedMs / 1000);
    let released = false;
    return {
      upstream,
      reason,
      queuedMs,
      release: (latencyMs?: number) => {
        if (released) return;
        released = true;
        upstream.inflight--;
        this.metrics.inflight.set({ upstream: upstream.url }, upstream.inflight);
        if (latencyMs !== undefined) {
          const prev = this.latencyEwma.get(request.model) ?? latencyMs;
          this.latencyEwma.set(request.model, prev * 0.9 + latencyMs * 0.1);
        }
        this.drain();
      },
    };
  }

  /** A 429 with a Retry-After estimated from the queue ahead and recent upstream latency. */
  private shed(model: string, reason: 'queue_full' | 'queue_timeout'): ProxyError {
    this.metrics.shed.inc({ model, reason });
    const slots = this.upstreams.serving(model).reduce((s, u) => s + (u.healthy ? u.limit : 0), 0) || 1;
    const latency = this.latencyEwma.get(model) ?? 100;
    const waitMs = Math.min(60_000, Math.max(50, (latency * (this.queueDepth(model) + 1)) / slots));
    const message = reason === 'queue_full'
      ? `model "${model}" is overloaded: the admission queue is full; retry later`
      : `model "${model}" is overloaded: no upstream slot within ${this.config.maxQueueWaitMs} ms; retry later`;
    return new ProxyError(reason, message, null, retryAfterHeaders(waitMs));
  }
}
