// The rest of vLLM's API through the proxy: rerank (three paths), score, pooling, classify, tokenize,
// detokenize and the Responses API (streamed and not), with the proxy's auth and metrics.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, EMBED_MODEL } from './chat-ab';
import { scrape, startSimProcess, type SimProcess } from './processes';

const KEY = 'sk-surface';

let sim: SimProcess;
let legacySim: SimProcess;
let proxy: RunningProxy;

beforeAll(async () => {
  [sim, legacySim] = await Promise.all([startSimProcess(), startSimProcess(['--legacy-metric-names'])]);
  proxy = await startProxy({
    upstreams: [sim.urls[0]!, legacySim.urls[0]!],
    port: 0,
    logLevel: 'silent',
    auth: { keys: [{ key: KEY }] },
    routing: { strategy: 'round-robin' },
    health: { intervalMs: 100 },
  });
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([sim?.stop(), legacySim?.stop()]);
});

async function post(base: string, path: string, body: unknown, key: string | undefined = KEY): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** An answer without the fields that differ per call (ids, timestamps). */
const stable = (b: any) => {
  const { id: _, created: __, ...rest } = b;
  return rest;
};

describe("vLLM's whole surface through the proxy", () => {
  it('reranks on /v1/rerank, /rerank and /v2/rerank exactly as the upstream does', async () => {
    const body = {
      model: EMBED_MODEL,
      query: 'shard servers merge results',
      documents: ['bananas are yellow', 'each shard server answers and the client merges results', 'a queue of requests'],
      top_n: 2,
    };
    const direct = await post(sim.urls[0]!, '/v1/rerank', body, undefined);
    for (const path of ['/v1/rerank', '/rerank', '/v2/rerank']) {
      const via = await post(proxy.url, path, body);
      expect(via.status, path).toBe(200);
      expect(via.headers.get('x-request-id')).toBeTruthy();
      expect(via.headers.get('x-ragwire-upstream')).toBeTruthy();
      expect(stable(via.body)).toEqual(stable(direct.body));
    }
    expect(direct.body.results[0].index).toBe(1);
  });

  it('passes score, pooling, classify, tokenize and detokenize through', async () => {
    for (const [path, body] of [
      ['/score', { model: EMBED_MODEL, text_1: 'vector index', text_2: ['vector index', 'soup'] }],
      ['/pooling', { model: EMBED_MODEL, input: ['alpha beta'] }],
      ['/classify', { model: EMBED_MODEL, input: ['great product', 'awful'] }],
    ] as const) {
      const [via, direct] = await Promise.all([post(proxy.url, path, body), post(sim.urls[0]!, path, body, undefined)]);
      expect(via.status, path).toBe(200);
      expect(stable(via.body), path).toEqual(stable(direct.body));
    }
    const tokens = await post(proxy.url, '/tokenize', { model: CHAT_MODEL, prompt: 'Hello, vector world.' });
    expect(tokens.status).toBe(200);
    expect(tokens.body.count).toBe(5);
    // Without a model (vLLM makes it optional): the proxy routes to a model it serves.
    const back = await post(proxy.url, '/detokenize', { tokens: tokens.body.tokens });
    expect(back.status).toBe(200);
    // Either replica may answer: each remembers the ids it handed out, the other names the unknown ones.
    expect(typeof back.body.prompt).toBe('string');
  });

  it('answers the Responses API, streamed and not, through the real openai SDK', async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    const whole = await client.responses.create({ model: CHAT_MODEL, input: 'What does a vector index do?', max_output_tokens: 12 });
    expect(whole.output_text.length).toBeGreaterThan(0);
    expect(whole.usage?.output_tokens).toBe(12);
    const stream = await client.responses.create({ model: CHAT_MODEL, input: 'What does a vector index do?', max_output_tokens: 12, stream: true });
    let text = '';
    const types = new Set<string>();
    for await (const event of stream) {
      types.add(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(text).toBe(whole.output_text);
    expect(types).toContain('response.created');
    expect([...types].some((t) => t === 'response.completed' || t === 'response.incomplete')).toBe(true);
  });

  it('applies auth, validation, 404s and request metrics to the new routes', async () => {
    expect((await post(proxy.url, '/v1/rerank', { model: EMBED_MODEL, query: 'q', documents: ['d'] }, '')).status).toBe(401);
    const unknown = await post(proxy.url, '/v1/rerank', { model: 'nope', query: 'q', documents: ['d'] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('model_not_found');
    const noStream = await post(proxy.url, '/score', { model: EMBED_MODEL, text_1: 'a', text_2: 'b', stream: true });
    expect(noStream.body.error).toMatchObject({ code: 'invalid_request', param: 'stream' });
    const upstreamError = await post(proxy.url, '/v1/rerank', { model: EMBED_MODEL, documents: ['d'] });
    expect(upstreamError.status).toBe(400);
    expect(upstreamError.body.error.param).toBe('query');
    expect((await post(proxy.url, '/v1/audio/speech', { model: CHAT_MODEL })).status).toBe(404);
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
    expect(metrics).toMatch(/ragwire_proxy_requests_total\{model="ragwire\/sim-embed",route="\/v1\/rerank",status="200"\} [1-9]/);
    expect(await scrape(proxy.url, 'ragwire_proxy_upstream_healthy')).toBe(2);
  });

  it('reads the KV-cache gauge under both names, vllm:kv_cache_usage_perc and vllm:gpu_cache_usage_perc', async () => {
    const legacy = await (await fetch(`${legacySim.urls[0]}/metrics`)).text();
    expect(legacy).toContain('vllm:gpu_cache_usage_perc');
    expect(legacy).not.toContain('vllm:kv_cache_usage_perc');
    // Hold both replicas' KV caches busy with long answers, and watch the proxy read each one's gauge.
    const abort = new AbortController();
    const client = new OpenAI({ apiKey: KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    const busy = Array.from({ length: 4 }, () =>
      client.chat.completions
        .create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'a long answer please' }], max_tokens: 3000, ignore_eos: true } as never, {
          signal: abort.signal,
        })
        .catch(() => undefined),
    );
    const seenBy = async (url: string) => {
      const upstream = proxy.context.upstreams.upstreams.find((u) => u.url === url)!;
      for (let i = 0; i < 50; i++) {
        if (upstream.gauges.kvCacheUsage > 0) return upstream.gauges.kvCacheUsage;
        await new Promise((r) => setTimeout(r, 50));
      }
      return 0;
    };
    const [seen, seenCurrent] = await Promise.all([seenBy(legacySim.urls[0]!), seenBy(sim.urls[0]!)]);
    abort.abort();
    await Promise.all(busy);
    expect(seenCurrent).toBeGreaterThan(0);
    expect(seen).toBeGreaterThan(0);
  });
});
