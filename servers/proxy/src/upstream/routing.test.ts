import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AdmissionController } from './admission';
import { resolveProxyConfig } from '../config';
import { ProxyError } from '../errors';
import { ProxyMetrics } from '../metrics';
import { LeastOutstandingRouter, PrefixAffinityRouter, RoundRobinRouter } from './router';
import { parseVllmGauges, Upstream } from './upstream';
import { UpstreamSet } from './upstream-set';

const config = resolveProxyConfig({
  upstreams: ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'],
  admission: { maxConcurrencyPerUpstream: 2, minConcurrencyPerUpstream: 1, maxQueue: 3, maxQueueWaitMs: 200 },
  routing: { minPrefixChars: 64, prefixBlockChars: 32, maxImbalance: 1, minMatchRatio: 0.5 },
});

function upstreams(): Upstream[] {
  return config.upstreams.map((u) => new Upstream(u, config));
}

/** Puts `n` more requests in flight on `u`. */
function load(u: Upstream, n: number): void {
  for (let i = 0; i < n; i++) u.lease();
}

describe('routers', () => {
  it('prefix affinity sends a shared long prefix to the same upstream, spreading distinct ones', () => {
    const router = new PrefixAffinityRouter(config.routing);
    const ups = upstreams();
    // One shared system prompt, then different documents: only the longer shared prefixes count.
    const docs = ['A', 'B', 'C'].map((d) => `system prompt. ${`retrieved document ${d} `.repeat(6)}`);
    const first = docs.map((d) => router.pick(ups, `${d} question 1`).upstream);
    for (const u of first) load(u, 1);
    expect(new Set(first).size).toBe(3); // least outstanding placed them apart
    docs.forEach((d, i) => {
      const again = router.pick(ups, `${d} a different question`);
      expect(again.reason).toBe('affinity');
      expect(again.upstream).toBe(first[i]);
    });
  });

  it('prefix affinity yields to the least loaded when the affine upstream is too busy', () => {
    const router = new PrefixAffinityRouter(config.routing);
    const ups = upstreams();
    const prompt = 'x'.repeat(200);
    const home = router.pick(ups, prompt).upstream;
    load(home, 5);
    const next = router.pick(ups, prompt);
    expect(next.upstream).not.toBe(home);
    expect(next.reason).toBe('least-outstanding');
  });

  it('least outstanding and round robin', () => {
    const ups = upstreams();
    load(ups[0]!, 3);
    load(ups[1]!, 1);
    load(ups[2]!, 2);
    expect(new LeastOutstandingRouter().pick(ups).upstream).toBe(ups[1]);
    const rr = new RoundRobinRouter();
    expect([0, 1, 2, 3].map(() => ups.indexOf(rr.pick(ups).upstream))).toEqual([0, 1, 2, 0]);
  });
});

describe('AdmissionController', () => {
  const make = () => {
    const metrics = new ProxyMetrics(false);
    const set = new UpstreamSet(config, metrics, pino({ level: 'silent' }));
    return { set, admission: new AdmissionController(config.admission, set, new LeastOutstandingRouter(), metrics) };
  };

  it('admits up to the limits, queues by priority, sheds beyond the queue at once', async () => {
    const { set, admission } = make();
    const leases = await Promise.all(Array.from({ length: 6 }, () => admission.acquire({ model: 'm', priority: 0 })));
    expect(set.upstreams.map((u) => u.inflight)).toEqual([2, 2, 2]);
    const order: string[] = [];
    const low = admission.acquire({ model: 'm', priority: 5 }).then((l) => {
      order.push('low');
      return l;
    });
    const lowOutcome = low.catch((e: unknown) => e);
    const normal = admission.acquire({ model: 'm', priority: 0 }).then((l) => {
      order.push('normal');
      return l;
    });
    const high = admission.acquire({ model: 'm', priority: -5 }).then((l) => {
      order.push('high');
      return l;
    });
    expect(admission.queueDepth('m')).toBe(3);
    const started = performance.now();
    await expect(admission.acquire({ model: 'm', priority: 9 })).rejects.toMatchObject({ code: 'queue_full', status: 429 });
    expect(performance.now() - started).toBeLessThan(50); // at once, not after a wait (the benchmark measures how fast)
    // A better-priority newcomer evicts the worst waiter instead of being shed.
    const urgent = admission.acquire({ model: 'm', priority: -10 }).then((l) => {
      order.push('urgent');
      return l;
    });
    expect(await lowOutcome).toBeInstanceOf(ProxyError);
    for (const l of leases) l.release(10);
    const rest = await Promise.all([urgent, high, normal]);
    expect(order).toEqual(['urgent', 'high', 'normal']);
    for (const l of rest) l.release();
    expect(set.upstreams.map((u) => u.inflight)).toEqual([0, 0, 0]);
    await set.close();
  });

  it('times a waiter out with 429 and a Retry-After', async () => {
    const { set, admission } = make();
    const leases = await Promise.all(Array.from({ length: 6 }, () => admission.acquire({ model: 'm', priority: 0 })));
    const error = await admission.acquire({ model: 'm', priority: 0 }).catch((e: ProxyError) => e);
    expect(error).toMatchObject({ code: 'queue_timeout', status: 429 });
    expect(Number((error as ProxyError).headers['retry-after-ms'])).toBeGreaterThan(0);
    for (const l of leases) l.release();
    await set.close();
  });

  it('sheds at once a request predicted to wait beyond maxQueueWaitMs, and queues one that is not', async () => {
    const slow = make();
    const leases = await Promise.all(Array.from({ length: 6 }, () => slow.admission.acquire({ model: 'm', priority: 0 })));
    // A call took 1,000 ms: each slot is expected back ~1 s after its call started, far beyond the 200 ms allowed.
    leases.shift()!.release(1000);
    leases.push(await slow.admission.acquire({ model: 'm', priority: 0 }));
    const started = performance.now();
    const error = await slow.admission.acquire({ model: 'm', priority: 0 }).catch((e: ProxyError) => e);
    expect(performance.now() - started).toBeLessThan(50);
    expect(error).toMatchObject({ code: 'queue_wait_exceeded', status: 429 });
    const retryMs = Number((error as ProxyError).headers['retry-after-ms']);
    expect(retryMs).toBeGreaterThan(700); // ~900 ms: when a slot should be within half the allowed wait
    expect(retryMs).toBeLessThanOrEqual(900);
    expect(slow.admission.queueDepth('m')).toBe(0);
    for (const l of leases) l.release();
    await slow.set.close();

    const quick = make();
    const held = await Promise.all(Array.from({ length: 6 }, () => quick.admission.acquire({ model: 'm', priority: 0 })));
    held.shift()!.release(50);
    held.push(await quick.admission.acquire({ model: 'm', priority: 0 }));
    const waiting = quick.admission.acquire({ model: 'm', priority: 0 }); // a slot is expected within 50 ms: it queues
    expect(quick.admission.queueDepth('m')).toBe(1);
    held.shift()!.release(50);
    held.push(await waiting);
    for (const l of held) l.release();
    expect(quick.set.upstreams.map((u) => u.inflight)).toEqual([0, 0, 0]);
    await quick.set.close();
  });

  it('an upstream counts its own leases, each ended once', () => {
    const u = new Upstream('http://127.0.0.1:1', config);
    const end = u.lease();
    load(u, 1);
    expect(u.inflight).toBe(2);
    expect([...u.leaseStarts()]).toHaveLength(2);
    expect(u.hasCapacity).toBe(false);
    end();
    end();
    expect(u.inflight).toBe(1);
    expect([...u.leaseStarts()]).toHaveLength(1);
    void u.close();
  });

  it('shrinks an upstream limit from vLLM gauges, old and new names', () => {
    const u = new Upstream('http://127.0.0.1:1', config);
    const queueing = parseVllmGauges(
      'vllm:num_requests_running{model_name="m"} 1\nvllm:num_requests_waiting{model_name="m"} 4\nvllm:gpu_cache_usage_perc{model_name="m"} 0.5\n',
    );
    // One or two checks that see vLLM queueing are not saturation (requests wait for the next step): the limit holds.
    u.applyGauges(queueing);
    u.applyGauges(queueing);
    expect(u.limit).toBe(2);
    u.applyGauges(queueing); // the third in a row is
    expect(u.limit).toBe(1);
    u.applyGauges(parseVllmGauges('vllm:num_requests_waiting{model_name="m"} 0\nvllm:kv_cache_usage_perc{model_name="m"} 0.2\n'));
    expect(u.limit).toBe(2);
    expect(parseVllmGauges('vllm:kv_cache_usage_perc{model_name="m"} 0.97').kvCacheUsage).toBe(0.97);
    void u.close();
  });
});
