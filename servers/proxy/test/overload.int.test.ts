import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyProcess, startSimProcess, type ProxyProcess, type SimProcess } from './processes';

const MODEL = 'ragwire/sim-8b';
const CONCURRENCY = 4;
const QUEUE = 8;
let sim: SimProcess;
let proxy: ProxyProcess;

beforeAll(async () => {
  sim = await startSimProcess(['--step-base-ms', '5']);
  proxy = await startProxyProcess(['--upstream', sim.urls[0]!, '--max-concurrency', String(CONCURRENCY), '--max-queue', String(QUEUE)]);
});

afterAll(async () => {
  await proxy?.stop();
  await sim?.stop();
});

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
  return Number(kb) * 1024;
}

async function wave(n: number) {
  const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'overload me' }], max_tokens: 150 });
  return Promise.all(
    Array.from({ length: n }, async () => {
      const started = performance.now();
      const res = await fetch(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const json = (await res.json()) as { error?: { code: string }; choices?: unknown[] };
      return {
        status: res.status,
        ms: performance.now() - started,
        retryAfterMs: res.headers.get('retry-after-ms'),
        retryAfter: res.headers.get('retry-after'),
        json,
      };
    }),
  );
}

describe('10x overload', () => {
  it('sheds every excess request at once with 429, completes every admitted one, and keeps RSS bounded', async () => {
    const capacity = CONCURRENCY + QUEUE;
    await wave(capacity); // warm up connections and JIT
    const rssBefore = rssBytes(proxy.child.pid!);
    for (let round = 0; round < 3; round++) {
      const results = await wave(capacity * 10);
      const admitted = results.filter((r) => r.status === 200);
      const shed = results.filter((r) => r.status === 429);
      expect(admitted.length + shed.length).toBe(results.length); // nothing else: no 5xx, no timeouts
      expect(admitted.length).toBeGreaterThanOrEqual(capacity);
      expect(shed.length).toBeGreaterThanOrEqual(results.length - 2 * capacity);
      for (const r of admitted) expect(r.json.choices).toHaveLength(1);
      for (const r of shed) {
        expect(r.json.error?.code).toBe('queue_full');
        expect(Number(r.retryAfterMs)).toBeGreaterThan(0);
        expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      // Shed without waiting: every 429 arrives before the admitted requests (150 steps of 5 ms) finish.
      const slowest429 = Math.max(...shed.map((r) => r.ms));
      const fastest200 = Math.min(...admitted.map((r) => r.ms));
      expect(slowest429).toBeLessThan(fastest200);
    }
    const growth = rssBytes(proxy.child.pid!) - rssBefore;
    expect(growth).toBeLessThan(64 * 1024 * 1024);
  });
});
