import type { Cancellation } from './cancellation';
import type { ProxyConfig } from '../config';
import { ProxyError, retryAfterHeaders } from '../errors';
import { child, type ProxyMetrics } from '../metrics';
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
  /** Ends the wait when the client goes away. */
  cancellation?: Cancellation;
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
      const lease = this.tryRoute(request, serving, 0);
      if (lease) return Promise.resolve(lease);
    }
    if (queue.length >= this.config.maxQueue) {
      const worst = queue[queue.length - 1];
      if (!worst || worst.request.priority <= request.priority) return Promise.reject(this.shed(request.model, serving, 'queue_full'));
      queue.pop();
      worst.cleanup();
      worst.reject(this.shed(request.model, serving, 'queue_full'));
    }
    // Its place: after every waiter of the same or better priority.
    let at = queue.length;
    while (at > 0 && queue[at - 1]!.request.priority > request.priority) at--;
    // Predicted past half the allowed wait: shed now. The other half is margin for the prediction's
    // error, so that few admitted requests time out in the queue (a slow 429) instead.
    const predictedMs = this.predictedWaitMs(request.model, serving, at);
    if (predictedMs !== undefined && predictedMs > this.config.maxQueueWaitMs / 2)
      return Promise.reject(this.shed(request.model, serving, 'queue_wait_exceeded', predictedMs));
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        request,
        enqueuedAt: performance.now(),
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          unsubscribe?.();
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
        reject(this.shed(request.model, this.upstreams.serving(request.model), 'queue_timeout'));
      }, this.config.maxQueueWaitMs);
      const unsubscribe = request.cancellation?.onCancel(() => {
        remove();
        waiter.cleanup();
        reject(request.cancellation!.reason);
      });
      queue.splice(at, 0, waiter);
      this.metrics.queueDepth.set({ model: request.model }, queue.length);
    });
  }

  /** Hands freed slots to waiters, best priority first. */
  drain(): void {
    for (const [model, queue] of this.queues) {
      if (queue.length === 0) continue;
      const serving = this.upstreams.serving(model);
      while (queue.length > 0) {
        const head = queue[0]!;
        const lease = this.tryRoute(head.request, serving, performance.now() - head.enqueuedAt);
        if (!lease) break;
        queue.shift();
        head.cleanup();
        head.resolve(lease);
      }
      this.metrics.queueDepth.set({ model }, queue.length);
    }
  }

  /** A lease on one of `serving` (the upstreams serving the request's model) with a free slot, if any. */
  private tryRoute(request: AdmissionRequest, serving: readonly Upstream[], queuedMs: number): Lease | undefined {
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
    const endLease = upstream.lease();
    const inflight = child(this.metrics.inflight, upstream.url);
    inflight.set(upstream.inflight);
    const reason = failover ? 'failover' : picked.reason;
    child(this.metrics.routed, upstream.url, reason).inc();
    if (queuedMs > 0) this.metrics.queueWait.observe({ model: request.model }, queuedMs / 1000);
    let released = false;
    return {
      upstream,
      reason,
      queuedMs,
      release: (latencyMs?: number) => {
        if (released) return;
        released = true;
        endLease();
        inflight.set(upstream.inflight);
        if (latencyMs !== undefined) {
          // Quick to rise, slow to fall: under a load increase, waits are predicted long before they happen.
          const prev = this.latencyEwma.get(request.model) ?? latencyMs;
          this.latencyEwma.set(request.model, prev + (latencyMs - prev) * (latencyMs > prev ? 0.5 : 0.1));
        }
        this.drain();
      },
    };
  }

  /**
   * How long a request placed at `position` in `model`'s queue would wait for
   * a slot, predicted from the requests in flight on the upstreams serving
   * it: each frees its slot when the smoothed upstream latency has passed
   * since it started. Undefined before any upstream call has completed.
   * A heuristic: requests of very different lengths make it rough.
   */
  private predictedWaitMs(model: string, serving: readonly Upstream[], position: number): number | undefined {
    const latency = this.latencyEwma.get(model);
    if (latency === undefined) return undefined;
    const now = performance.now();
    const remaining: number[] = [];
    let excess = 0; // requests in flight beyond a lowered limit: their slots do not come back
    for (const u of serving) {
      if (!u.healthy) continue;
      for (const started of u.leaseStarts()) remaining.push(Math.max(0, latency - (now - started)));
      excess += Math.max(0, u.inflight - u.limit);
    }
    if (remaining.length === 0) return 0;
    remaining.sort((a, b) => a - b);
    const nth = position + Math.min(excess, remaining.length - 1);
    return remaining[nth % remaining.length]! + Math.floor(nth / remaining.length) * latency;
  }

  /** A 429 with a Retry-After estimated from the queue ahead and recent upstream latency. */
  private shed(model: string, serving: readonly Upstream[], reason: 'queue_full' | 'queue_timeout' | 'queue_wait_exceeded', predictedMs = 0): ProxyError {
    this.metrics.shed.inc({ model, reason });
    const slots = serving.reduce((s, u) => s + (u.healthy ? u.limit : 0), 0) || 1;
    const latency = this.latencyEwma.get(model) ?? 100;
    const waitMs =
      reason === 'queue_wait_exceeded'
        ? Math.min(60_000, Math.max(50, predictedMs - this.config.maxQueueWaitMs / 2)) // when a slot should be that close
        : Math.min(60_000, Math.max(50, (latency * (this.queueDepth(model) + 1)) / slots));
    const message =
      reason === 'queue_full'
        ? `model "${model}" is overloaded: the admission queue is full; retry later`
        : reason === 'queue_wait_exceeded'
          ? `model "${model}" is overloaded: an upstream slot is expected in ${Math.round(predictedMs)} ms, more than half the ${this.config.maxQueueWaitMs} ms queue wait allowed; retry later`
          : `model "${model}" is overloaded: no upstream slot within ${this.config.maxQueueWaitMs} ms; retry later`;
    return new ProxyError(reason, message, null, retryAfterHeaders(waitMs));
  }
}
