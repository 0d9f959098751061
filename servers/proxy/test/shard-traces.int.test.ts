// W3C trace context from an OpenAI client through the proxy, @ragwire/client and the binary frames
// (docs/protocol.md §5.12) to two ragwire-shard processes, all exporting over OTLP/HTTP to one real
// receiver in this process: one RAG request is one trace, each shard's span the child of its
// retrieve.shard span in the proxy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardedCollection } from '@ragwire/client';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver, attribute as attr, type ReceivedSpan } from '@ragwire/tracing/receiver';
import { startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, EMBED_MODEL } from './chat-ab';
import { startShardProcess, startSimProcess, type ShardProcess, type SimProcess } from './processes';

let sim: SimProcess;
let receiver: OtlpReceiver;
let proxy: RunningProxy;
let dir: string;
const shards: ShardProcess[] = [];

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  const otlp = receiver.endpoint;
  dir = mkdtempSync(join(tmpdir(), 'ragwire-shard-traces-'));
  sim = await startSimProcess();
  for (const i of [0, 1]) shards.push(await startShardProcess(join(dir, `shard-${i}`), ['--otlp-endpoint', otlp]));
  const urls = shards.map((s) => [s.url]);
  const c = new ShardedCollection({ shards: urls, collection: 'docs' });
  await c.createCollection({ dim: 64, metric: 'cosine', kind: 'flat', storage: 'f32' });
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
  await c.upsert({
    ids,
    vectors: new Float32Array(ids.length * 64).map((_, i) => Math.sin(i)),
    payloads: ids.map((t) => ({ text: `doc ${t}`, metadata: {} })),
  });
  await c.close();
  proxy = await startProxy({
    upstreams: [sim.urls[0]!],
    port: 0,
    logLevel: 'silent',
    tracing: { enabled: true, otlpEndpoint: otlp, exportDelayMs: 50 },
    rag: { collections: { docs: { shards: urls, embeddingModel: EMBED_MODEL } }, aliases: { 'rag/sim': { model: CHAT_MODEL, collection: 'docs', k: 2 } } },
  });
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([sim?.stop(), ...shards.map((s) => s.stop())]);
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('one RAG request over two shard processes', () => {
  it('is one trace: proxy server span -> retrieve -> retrieve.shard (one per shard) -> ragwire.shard.query in that shard', async () => {
    const client = new OpenAI({ apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0, defaultHeaders: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } });
    const answer = await client.chat.completions.create({ model: 'rag/sim', messages: [{ role: 'user', content: 'doc a?' }], max_tokens: 8 });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    await proxy.context.tracing!.flush();
    // The shard processes export on their own schedule (1 s batches by default).
    const shardSpans = () => receiver.spans.filter((s) => s.traceId === TRACE_ID && s.name === 'ragwire.shard.query');
    await receiver.waitFor(() => shardSpans().length >= 2, 7_500);

    const mine = receiver.spans.filter((s) => s.traceId === TRACE_ID);
    const named = (name: string) => mine.filter((s) => s.name === name);
    const childrenOf = (s: ReceivedSpan) => mine.filter((c) => c.parentSpanId === s.spanId);
    const [root] = named('POST /v1/chat/completions');
    expect(root, JSON.stringify(mine.map((s) => s.name))).toBeDefined();
    expect(root!.parentSpanId).toBe(CLIENT_SPAN);
    expect(root!.service).toBe('ragwire-proxy');
    expect(
      childrenOf(root!)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['embed', 'generate', 'retrieve']);
    const [embed] = named('embed');
    expect(childrenOf(embed!).map((c) => c.name)).toEqual(['embed.batch']);

    const [retrieve] = named('retrieve');
    const perShard = childrenOf(retrieve!).filter((c) => c.name === 'retrieve.shard');
    expect(
      childrenOf(retrieve!)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['merge', 'retrieve.shard', 'retrieve.shard']);
    expect(perShard.map((s) => attr(s, 'ragwire.shard')).sort()).toEqual([0, 1]);
    expect(shardSpans()).toHaveLength(2);
    for (const shardSpan of perShard) {
      const served = childrenOf(shardSpan);
      expect(served.map((s) => [s.name, s.service])).toEqual([['ragwire.shard.query', 'ragwire-shard']]);
      const q = served[0]!;
      expect(q.kind).toBe(2); // SPAN_KIND_SERVER
      expect(attr(q, 'ragwire.collection')).toBe('docs');
      expect(attr(q, 'ragwire.n')).toBe(1);
      expect(attr(q, 'ragwire.k')).toBe(2);
      expect(attr(q, 'ragwire.hits')).toBeGreaterThan(0);
      expect(attr(q, 'ragwire.search_ms')).toBeGreaterThanOrEqual(0);
      // Into the store and the engine: the engine's search and the payload read, children of the shard's span.
      const stages = childrenOf(q);
      expect(stages.map((s) => s.name).sort()).toEqual(['engine.search', 'payloads']);
      const engine = stages.find((s) => s.name === 'engine.search')!;
      expect(attr(engine, 'ragwire.kind')).toBe('flat');
      expect(attr(engine, 'ragwire.rows')).toBeGreaterThan(0);
    }
  });
});
