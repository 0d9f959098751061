// W3C trace context through the proxy, exported over OTLP/HTTP to a real receiver in this process:
// the span tree of one RAG request (embed, retrieve with one span per shard, merge, generate with
// TTFT; admission wait and upstream attempt spans when a call queues or is retried), and the
// traceparent the upstream receives.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardedCollection, closeEmbeddedStores } from '@ragwire/client';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver, attribute, type ReceivedSpan } from '@ragwire/tracing/receiver';
import { startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, EMBED_MODEL } from './chat-ab';
import { startSimProcess, type SimProcess } from './processes';

let sim: SimProcess;
let receiver: OtlpReceiver;
let recorder: Server;
let recorderUrl: string;
const upstreamCalls: { path: string | undefined; headers: IncomingHttpHeaders }[] = [];
let dir: string;
const proxies: RunningProxy[] = [];

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

beforeAll(async () => {
  sim = await startSimProcess();
  receiver = await OtlpReceiver.start();
  // An upstream hop that records what the proxy sends (headers), then forwards to the simulator.
  const target = new URL(sim.urls[0]!);
  recorder = createServer((req, res) => {
    upstreamCalls.push({ path: req.url, headers: req.headers });
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
  await receiver?.close();
  recorder?.closeAllConnections();
  recorder?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function proxyWith(tracing: boolean): Promise<RunningProxy> {
  const proxy = await startProxy({
    upstreams: [recorderUrl],
    port: 0,
    logLevel: 'silent',
    tracing: { enabled: tracing, otlpEndpoint: receiver.endpoint, exportDelayMs: 50 },
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
    upstreamCalls.length = 0;
    const client = new OpenAI({ apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0, defaultHeaders: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } });
    const stream = await client.chat.completions.create({ model: 'rag/sim', messages: [{ role: 'user', content: 'doc a?' }], max_tokens: 8, stream: true });
    for await (const _ of stream) {
      /* drain */
    }
    await proxy.context.tracing!.flush();
    await receiver.waitFor((spans) => spans.some((s) => s.name === 'POST /v1/chat/completions'));

    const mine = receiver.spans.filter((s) => s.traceId === TRACE_ID);
    const byName = (name: string) => mine.filter((s) => s.name === name);
    const [root] = byName('POST /v1/chat/completions');
    expect(root, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    expect(root!.parentSpanId).toBe(CLIENT_SPAN);
    const childrenOf = (s: ReceivedSpan) =>
      mine
        .filter((c) => c.parentSpanId === s.spanId)
        .map((c) => c.name)
        .sort();
    expect(childrenOf(root!)).toEqual(['embed', 'generate', 'retrieve']);
    const [retrieve] = byName('retrieve');
    expect(childrenOf(retrieve!)).toEqual(['merge', 'retrieve.shard', 'retrieve.shard']);
    const [generate] = byName('generate');
    // Admitted at once and answered on the first attempt: no wait span, the attempt is the generate span itself.
    expect(childrenOf(generate!)).toEqual([]);
    expect(generate!.events?.map((e) => e.name)).toContain('first_token');
    expect(attribute(generate!, 'ragwire.ttft_ms')).toBeGreaterThanOrEqual(0);
    expect(attribute(generate!, 'server.address')).toBe(recorderUrl);
    // The chat call upstream carried the generate span as its parent.
    const chat = upstreamCalls.find((c) => c.path === '/v1/chat/completions');
    expect(chat?.headers.traceparent).toBe(`00-${TRACE_ID}-${generate!.spanId}-01`);
  });

  it('traces a queued admission as admission.wait and a retry as upstream.attempt', async () => {
    // One request at a time upstream, and an upstream that answers the first chat 503 and forwards the rest, slowly.
    const target = new URL(recorderUrl);
    let refused = 0;
    const flaky = createServer((req, res) => {
      if (req.url === '/v1/chat/completions' && refused === 0) {
        refused++;
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"busy"}}');
        return;
      }
      // Held 100 ms, so a call that arrives meanwhile finds the one upstream slot taken and queues.
      setTimeout(() => {
        const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        req.pipe(up);
      }, 100);
    });
    const flakyUrl = await listen(flaky);
    const proxy = await startProxy({
      upstreams: [flakyUrl],
      port: 0,
      logLevel: 'silent',
      admission: { maxConcurrencyPerUpstream: 1, minConcurrencyPerUpstream: 1 },
      retries: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      tracing: { enabled: true, otlpEndpoint: receiver.endpoint, exportDelayMs: 50 },
    });
    proxies.push(proxy);
    try {
      const traceIds = ['1bf92f3577b34da6a3ce929d0e0e4736', '2bf92f3577b34da6a3ce929d0e0e4736'];
      await Promise.all(
        traceIds.map((traceId) => {
          const client = new OpenAI({
            apiKey: 'x',
            baseURL: `${proxy.url}/v1`,
            maxRetries: 0,
            defaultHeaders: { traceparent: `00-${traceId}-${CLIENT_SPAN}-01` },
          });
          return client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 });
        }),
      );
      await proxy.context.tracing!.flush();
      const ofTrace = (traceId: string, name: string) => receiver.spans.filter((s) => s.traceId === traceId && s.name === name);
      const waits = traceIds.flatMap((t) => ofTrace(t, 'admission.wait'));
      const attempts = traceIds.flatMap((t) => ofTrace(t, 'upstream.attempt'));
      // Only one upstream slot: at least one of the two calls queued (the retried one queues again behind the other).
      expect(waits.length).toBeGreaterThanOrEqual(1);
      // A plain chat is traced on its request span alone. Exactly one chat was refused once, so exactly one
      // retry span, numbered 2, under a request span that records the failed first attempt.
      for (const t of traceIds) expect(ofTrace(t, 'generate')).toEqual([]);
      expect(attempts).toHaveLength(1);
      expect(attribute(attempts[0]!, 'ragwire.attempt')).toBe(2);
      const parent = receiver.spans.find((s) => s.spanId === attempts[0]!.parentSpanId);
      expect(parent?.name).toBe('POST /v1/chat/completions');
      expect(parent?.events?.map((e) => e.name)).toContain('upstream.attempt.failed');
      for (const w of waits) expect(receiver.spans.find((s) => s.spanId === w.parentSpanId)?.name).toBe('POST /v1/chat/completions');
    } finally {
      flaky.closeAllConnections();
      flaky.close();
    }
  });

  it("records nothing for a caller's unsampled trace and passes its traceparent upstream untouched", async () => {
    const proxy = await proxyWith(true);
    upstreamCalls.length = 0;
    const unsampled = `00-${TRACE_ID.replace('4b', '6b')}-${CLIENT_SPAN}-00`;
    const client = new OpenAI({ apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0, defaultHeaders: { traceparent: unsampled } });
    await client.chat.completions.create({ model: 'rag/sim', messages: [{ role: 'user', content: 'doc a?' }], max_tokens: 4 });
    await proxy.context.tracing!.flush();
    expect(receiver.spans.filter((s) => s.traceId === TRACE_ID.replace('4b', '6b'))).toEqual([]);
    const chat = upstreamCalls.find((c) => c.path === '/v1/chat/completions');
    expect(chat?.headers.traceparent).toBe(unsampled);
    expect(upstreamCalls.find((c) => c.path === '/v1/embeddings')?.headers.traceparent).toBe(unsampled);
  });

  it('creates and sends nothing when off (the default)', async () => {
    const proxy = await proxyWith(false);
    expect(proxy.context.tracing).toBeUndefined();
    upstreamCalls.length = 0;
    const before = receiver.spans.length;
    const client = new OpenAI({ apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0, defaultHeaders: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } });
    await client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.spans.length).toBe(before);
    expect(upstreamCalls.some((c) => c.path === '/v1/chat/completions')).toBe(true);
    expect(upstreamCalls.some((c) => c.headers.traceparent !== undefined)).toBe(false);
  });
});
