// Issue 11's proxy holes: the dashboard's API behind the API keys, stage samples bounded per sender, and the Bearer scheme case-insensitive.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abReport, startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, EMBED_MODEL } from './chat-ab';
import { startSimProcess, type SimProcess } from './processes';

const KEY = 'sk-dash-main';
const JUNK_KEY = 'sk-dash-junk';
const DASHBOARD_KEY = 'dash-only';

let sim: SimProcess;
let proxy: RunningProxy;
let abRuns = 0;

beforeAll(async () => {
  sim = await startSimProcess();
  proxy = await startProxy(
    {
      upstreams: sim.urls,
      port: 0,
      logLevel: 'silent',
      auth: {
        keys: [
          { key: KEY, name: 'main' },
          { key: JUNK_KEY, name: 'junk' },
        ],
      },
      dashboardApi: { key: DASHBOARD_KEY },
    },
    undefined,
    {
      dashboard: {
        async runAb(question) {
          abRuns++;
          const run = { label: 'x', totalMs: 1, stages: {}, answer: '' };
          return abReport(question, run, run);
        },
      },
    },
  );
});

afterAll(async () => {
  await proxy?.close();
  await sim?.stop();
});

async function call(path: string, authorization?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(`${proxy.url}${path}`, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('the dashboard API with API keys configured', () => {
  it('refuses the series, stages and A/B routes without a key or with a wrong one, and never runs the A/B hook', async () => {
    for (const auth of [undefined, 'Bearer nope', `Basic ${KEY}`]) {
      for (const [path, body] of [
        ['/dashboard/api/series', undefined],
        ['/dashboard/api/stages', { samples: [{ stage: 'x', ms: 1 }] }],
        ['/dashboard/api/ab', { question: 'load?' }],
      ] as const) {
        const res = await call(path, auth, body);
        expect(res.status, `${path} ${auth}`).toBe(401);
        expect(res.body.error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error' });
      }
    }
    expect(abRuns).toBe(0);
    // The page and its static assets hold no data and stay open.
    expect((await fetch(`${proxy.url}/dashboard`)).status).toBe(200);
  });

  it('answers with an API key or the separate dashboard key', async () => {
    expect((await call('/dashboard/api/series', `Bearer ${KEY}`)).status).toBe(200);
    expect((await call('/dashboard/api/series', `Bearer ${DASHBOARD_KEY}`)).status).toBe(200);
    expect((await call('/dashboard/api/ab', `Bearer ${DASHBOARD_KEY}`, { question: 'q' })).status).toBe(200);
    expect(abRuns).toBe(1);
    // The dashboard key opens the dashboard only.
    expect((await call('/v1/models', `Bearer ${DASHBOARD_KEY}`)).status).toBe(401);
  });

  it("bounds the stages one sender may open, so junk locks out neither other senders nor the proxy's own stages", async () => {
    const junk = `Bearer ${JUNK_KEY}`;
    const eight = Array.from({ length: 8 }, (_, i) => ({ stage: `junk_${i}`, ms: 1 }));
    expect(await call('/dashboard/api/stages', junk, { samples: eight })).toMatchObject({ status: 200, body: { accepted: 8 } });
    const ninth = await call('/dashboard/api/stages', junk, { samples: [{ stage: 'junk_8', ms: 1 }] });
    expect(ninth.status).toBe(400);
    expect(ninth.body.error).toMatchObject({ code: 'invalid_request', param: 'samples[0].stage' });
    // Its own stages it may still feed; a flood beyond its sample rate is refused.
    expect((await call('/dashboard/api/stages', junk, { samples: [{ stage: 'junk_0', ms: 2 }] })).status).toBe(200);
    const flood = Array.from({ length: 1000 }, () => ({ stage: 'junk_1', ms: 1 }));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('/dashboard/api/stages', junk, { samples: flood })).status);
    expect(statuses).toContain(429);
    // Another sender still opens stages, and the proxy's own stages record real traffic.
    expect(await call('/dashboard/api/stages', `Bearer ${KEY}`, { samples: [{ stage: 'retrieve', ms: 3 }] })).toMatchObject({
      status: 200,
      body: { accepted: 1 },
    });
    const client = new OpenAI({ apiKey: KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    await client.embeddings.create({ model: EMBED_MODEL, input: 'real traffic' });
    await client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'real' }], max_tokens: 4 });
    const series = (await call('/dashboard/api/series', `Bearer ${KEY}`)).body;
    expect(Object.keys(series.stages)).toEqual(expect.arrayContaining(['embed', 'generate', 'retrieve', 'junk_0']));
  });
});

describe('the Bearer scheme', () => {
  it('is matched case-insensitively (RFC 7235)', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect((await call('/v1/models', `${scheme} ${KEY}`)).status, scheme).toBe(200);
      const res = await call('/v1/embeddings', `${scheme} ${KEY}`, { model: EMBED_MODEL, input: 'x' });
      expect(res.status, scheme).toBe(200);
    }
    expect((await call('/v1/models', `Bearer${KEY}`)).status).toBe(401);
  });
});
