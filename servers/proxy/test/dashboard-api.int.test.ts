import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, directVersusProxy, EMBED_MODEL } from './chat-ab';
import { startSimProcess, type SimProcess } from './processes';

const KEY = 'sk-dashboard-test';

let sim: SimProcess;
let proxy: RunningProxy;
const others: RunningProxy[] = [];

beforeAll(async () => {
  sim = await startSimProcess();
  proxy = await startProxy({ upstreams: sim.urls, port: 0, logLevel: 'silent', auth: { keys: [{ key: KEY }] } }, undefined, {
    dashboard: directVersusProxy(sim.urls[0]!, () => proxy.url, KEY),
  });
});

afterAll(async () => {
  await Promise.all([proxy, ...others].map((p) => p?.close()));
  await sim?.stop();
});

// The dashboard's API needs a key when keys are configured (issue 11); the proxies without keys ignore it.
const AUTH = { authorization: `Bearer ${KEY}` };

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: AUTH });
  return { status: res.status, body: await res.json() };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** Sum of the per-second sample counts of one stage in a series answer. */
const samplesOf = (series: any, stage: string): number => (series.stages[stage]?.count ?? []).reduce((a: number, b: number) => a + b, 0);

describe('dashboard HTTP API', () => {
  it('serves the page and its assets without an API key while the OpenAI routes still need one', async () => {
    const page = await fetch(`${proxy.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('/dashboard/assets/uPlot.iife.min.js');
    for (const [name, type, marker] of [
      ['uPlot.iife.min.js', /javascript/, 'uPlot'],
      ['uPlot.min.css', /css/, '.uplot'],
      ['dashboard.js', /javascript/, '/dashboard/api/series'],
      ['dashboard.css', /css/, '.panel'],
    ] as const) {
      const res = await fetch(`${proxy.url}/dashboard/assets/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      expect(await res.text()).toContain(marker);
    }
    const missing = await getJson(`${proxy.url}/dashboard/assets/..%2fpackage.json`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    expect((await fetch(`${proxy.url}/v1/models`)).status).toBe(401);
  });

  it("charts the proxy's own stages and throughput from real SDK traffic", async () => {
    const before = (await getJson(`${proxy.url}/dashboard/api/series`)).body;
    const client = new OpenAI({ apiKey: KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    for (const input of ['alpha', 'beta', 'gamma']) await client.embeddings.create({ model: EMBED_MODEL, input });
    for (let i = 0; i < 2; i++) {
      const stream = await client.chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: `stream ${i}` }],
        max_tokens: 8,
        stream: true,
      });
      for await (const _ of stream) {
        /* drain */
      }
    }
    await client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'whole' }], max_tokens: 8 });

    const { status, body: after } = await getJson(`${proxy.url}/dashboard/api/series`);
    expect(status).toBe(200);
    expect(samplesOf(after, 'embed') - samplesOf(before, 'embed')).toBe(3);
    expect(samplesOf(after, 'generate') - samplesOf(before, 'generate')).toBe(3);
    expect(samplesOf(after, 'generate_ttft') - samplesOf(before, 'generate_ttft')).toBe(2);
    const rps = (s: any) => s.throughput.rps.reduce((a: number, b: number) => a + b, 0);
    expect(rps(after) - rps(before)).toBe(6);
    for (const stage of ['embed', 'generate', 'generate_ttft']) {
      const s = after.stages[stage];
      expect(s.t.length).toBe(s.p50.length);
      expect(s.p50.every((v: number, i: number) => v > 0 && v <= s.p99[i])).toBe(true);
    }
    // A stream's first byte comes before its last.
    expect(Math.min(...after.stages.generate_ttft.p50)).toBeLessThanOrEqual(Math.max(...after.stages.generate.p99));
    expect(after.queueDepth.t).toEqual(after.throughput.t);
    expect(after.windowSeconds).toBe(300);
    expect(after.abAvailable).toBe(true);
  });

  it('takes stage timings from other processes, with per-shard percentiles', async () => {
    const samples = [
      ...[1, 2, 3, 4].map((ms) => ({ stage: 'shard_search', ms, shard: 'shard-0' })),
      { stage: 'shard_search', ms: 9, shard: 1 },
      { stage: 'retrieve', ms: 11.5 },
      { stage: 'merge', ms: 0.25 },
    ];
    const posted = await postJson(`${proxy.url}/dashboard/api/stages`, { samples });
    expect(posted).toMatchObject({ status: 200, body: { accepted: 7 } });
    const { body } = await getJson(`${proxy.url}/dashboard/api/series`);
    expect(body.shards).toEqual([
      { stage: 'shard_search', shard: '1', p50: 9, p99: 9, count: 1 },
      { stage: 'shard_search', shard: 'shard-0', p50: 2, p99: 4, count: 4 },
    ]);
    expect(samplesOf(body, 'shard_search')).toBe(5);
    expect(body.stages.retrieve.p50.at(-1)).toBe(11.5);
    expect(body.stages.merge.p99.at(-1)).toBe(0.25);
  });

  it.each([
    [{}, 'samples'],
    [{ samples: [] }, 'samples'],
    [{ samples: Array.from({ length: 1001 }, () => ({ stage: 'x', ms: 1 })) }, 'samples'],
    [{ samples: [{ stage: 'ok', ms: 1 }, 'nope'] }, 'samples[1]'],
    [{ samples: [{ stage: 'has space', ms: 1 }] }, 'samples[0].stage'],
    [{ samples: [{ stage: 'retrieve', ms: -2 }] }, 'samples[0].ms'],
    [{ samples: [{ stage: 'retrieve', ms: '5' }] }, 'samples[0].ms'],
    [{ samples: [{ stage: 'retrieve', ms: 5, shard: -1 }] }, 'samples[0].shard'],
    [{ samples: [{ stage: 'retrieve', ms: 5, at: 0 }] }, 'samples[0].at'],
  ])("refuses the bad stage body %j in OpenAI's error shape", async (body, param) => {
    const res = await postJson(`${proxy.url}/dashboard/api/stages`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request', param });
    expect(typeof res.body.error.message).toBe('string');
  });

  it('runs the A/B hook with real calls, keeps the last report, and never overlaps two runs', async () => {
    const [a, b] = await Promise.all([
      postJson(`${proxy.url}/dashboard/api/ab`, { question: 'what is a shard?' }),
      postJson(`${proxy.url}/dashboard/api/ab`, { question: 'what is a shard?' }),
    ]);
    const [ok, busy] = a.status === 200 ? [a, b] : [b, a];
    expect(ok.status).toBe(200);
    expect(busy.status).toBe(429);
    expect(busy.body.error.code).toBe('ab_busy');
    expect(Number(busy.headers.get('retry-after-ms'))).toBeGreaterThan(0);

    const report = ok.body;
    expect(report.question).toBe('what is a shard?');
    for (const side of [report.baseline, report.ragwire]) {
      expect(side.totalMs).toBeGreaterThan(0);
      expect(side.stages.embed).toBeGreaterThan(0);
      expect(side.stages.generate).toBeGreaterThan(0);
      expect(side.totalMs).toBeGreaterThanOrEqual(side.stages.embed + side.stages.generate);
    }
    // The simulator is deterministic: both paths got the same answer.
    expect(report.ragwire.answer).toBe(report.baseline.answer);
    expect(report.speedup).toBeCloseTo(report.baseline.totalMs / report.ragwire.totalMs, 9);
    expect((await getJson(`${proxy.url}/dashboard/api/series`)).body.ab).toEqual(report);

    const empty = await postJson(`${proxy.url}/dashboard/api/ab`, { question: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.param).toBe('question');
  });

  it('answers ab_unavailable without a hook, ab_failed when the hook fails, and nothing when disabled', async () => {
    const bare = await startProxy({ upstreams: sim.urls, port: 0, logLevel: 'silent' });
    others.push(bare);
    const unavailable = await postJson(`${bare.url}/dashboard/api/ab`, { question: 'q' });
    expect(unavailable.status).toBe(501);
    expect(unavailable.body.error).toMatchObject({ code: 'ab_unavailable', type: 'server_error' });
    expect((await getJson(`${bare.url}/dashboard/api/series`)).body.abAvailable).toBe(false);

    // A hook whose baseline endpoint is gone: a real connection refused.
    const deadPort = new URL(sim.urls[0]!);
    deadPort.port = '1';
    const failing = await startProxy({ upstreams: sim.urls, port: 0, logLevel: 'silent' }, undefined, {
      dashboard: directVersusProxy(deadPort.origin, () => failing.url),
    });
    others.push(failing);
    const failed = await postJson(`${failing.url}/dashboard/api/ab`, { question: 'q' });
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('ab_failed');
    expect(failed.body.error.message).toMatch(/the A\/B run failed/);

    const off = await startProxy({ upstreams: sim.urls, port: 0, logLevel: 'silent', dashboard: { enabled: false } });
    others.push(off);
    for (const path of ['/dashboard', '/dashboard/api/series', '/dashboard/assets/dashboard.js']) {
      const res = await getJson(`${off.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });
});
