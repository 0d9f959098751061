// W3C trace context through the proxy, exported over OTLP/HTTP to a real receiver in this process:
// the span tree of one RAG request (embed, retrieve with one span per shard, merge, generate with
// TTFT, admission wait, the upstream attempt), and the traceparent the upstream receives.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardedCollection, closeEmbeddedStores } from '@ragwire/client';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, EMBED_MODEL } from './chat-ab';
import { startSimProcess, type SimProcess } from './processes';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  events?: { name: string }[];
}

let sim: SimProcess;
let receiver: Server;
let recorder: Server;
let receiverUrl: string;
let recorderUrl: string;
const spans: OtlpSpan[] = [];
const upstreamHeaders: IncomingHttpHeaders[] = [];
let dir: string;
const proxies: RunningProxy[] = [];

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

beforeAll(async () => {
  sim = await startSimProcess();
  // A real OTLP/HTTP receiver: it takes the JSON export requests the SDK's exporter sends.
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  receiverUrl = await listen(receiver);
  // An upstream hop that records what the proxy sends (headers), then forwards to the simulator.
  const target = new URL(sim.urls[0]!);
  recorder = createServer((req, res) => {
    upstreamHeaders.push(req.headers);
    const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  recorderUrl = await listen(recorder);
  dir = mkdtempSync(join(tmpdir(), 'ragwire-traces-'));
  const shards = [0, 1].map((i) => [`embedded://${encodeURI(join(dir, `shard-${i}`))}`]);
  const c = new ShardedCollection({ shards, collection: 'docs' });
  await c.createCollection({ dim: 64, metric: 'cosine', kind: 'flat', storage: 'f32' });
  const vectors = new Float32Array(4 * 64).map((_, i) => Math.sin(i));
  await c.upsert({ ids: ['a', 'b', 'c', 'd'], vectors, payloads: ['a', 'b', 'c', 'd'].map((t) => ({ text: `doc ${t}`, metadata: {} })) });
  await c.close();
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await closeEmbeddedStores();
  await sim?.stop();
  receiver?.close();
  recorder?.closeAllConnections();
  recorder?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function proxyWith(tracing: boolean): Promise<RunningProxy> {
  const proxy = await startProxy({
    upstreams: [recorderUrl],
    port: 0,
    logLevel: 'silent',
    tracing: { enabled: tracing, otlpEndpoint: `${receiverUrl}/v1/traces`, exportDelayMs: 50 },
    rag: {
      collections: { docs: { shards: [0, 1].map((i) => [`embedded://${encodeURI(join(dir, `shard-${i}`))}`]), embeddingModel: EMBED_MODEL } },
      aliases: { 'rag/sim': { model: CHAT_MODEL, collection: 'docs', k: 2 } },
    },
  });
  proxies.push(proxy);
  return proxy;
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

describe('traces', () => {
  it("exports the span tree of one RAG request, child of the client's traceparent, and carries it upstream", async () => {
    const proxy = await proxyWith(true);
    upstreamHeaders.length = 0;
    const client = new OpenAI({ apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0, defaultHeaders: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } });
    const stream = await client.chat.completions.create({ model: 'rag/sim', messages: [{ role: 'user', content: 'doc a?' }], max_tokens: 8, stream: true });
    for await (const _ of stream) {
      /* drain */
    }
    await proxy.context.tracing!.flush();
    for (let i = 0; i < 40 && !spans.some((s) => s.name === 'POST /v1/chat/completions'); i++) await new Promise((r) => setTimeout(r, 50));

    const mine = spans.filter((s) => s.traceId === TRACE_ID);
    const byName = (name: string) => mine.filter((s) => s.name === name);
    const [root] = byName('POST /v1/chat/completions');
    expect(root, JSON.stringify(spans.map((s) => s.name))).toBeDefined();
    expect(root!.parentSpanId).toBe(CLIENT_SPAN);
    const childrenOf = (s: OtlpSpan) =>
      mine
        .filter((c) => c.parentSpanId === s.spanId)
        .map((c) => c.name)
        .sort();
    expect(childrenOf(root!)).toEqual(['embed', 'generate', 'retrieve']);
    const [retrieve] = byName('retrieve');
    expect(childrenOf(retrieve!)).toEqual(['merge', 'retrieve.shard', 'retrieve.shard']);
    const [generate] = byName('generate');
    expect(childrenOf(generate!)).toEqual(['admission.wait', 'upstream.attempt']);
    expect(generate!.events?.map((e) => e.name)).toContain('first_token');
    expect(generate!.attributes?.find((a) => a.key === 'ragwire.ttft_ms')).toBeDefined();
    // The chat call upstream carried the attempt's span as its parent.
    const [attempt] = byName('upstream.attempt');
    const chat = upstreamHeaders.find((h) => typeof h.traceparent === 'string' && h['content-type'] === 'application/json');
    expect(chat?.traceparent).toBe(`00-${TRACE_ID}-${attempt!.spanId}-01`);
  });

  it('creates and sends nothing when off (the default)', async () => {
    const proxy = await proxyWith(false);
    expect(proxy.context.tracing).toBeUndefined();
    upstreamHeaders.length = 0;
    const before = spans.length;
    const client = new OpenAI({ apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0, defaultHeaders: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } });
    await client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
    await new Promise((r) => setTimeout(r, 200));
    expect(spans.length).toBe(before);
    expect(upstreamHeaders.some((h) => h.traceparent !== undefined && h['x-request-id'] !== undefined && h['content-type'] === 'application/json')).toBe(false);
  });
});
