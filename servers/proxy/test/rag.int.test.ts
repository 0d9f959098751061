// Retrieval-augmented chat inside the proxy, through unmodified clients: the openai SDK, LangChain's
// ChatOpenAI and LlamaIndex's OpenAI, against a real embedded store and the simulator.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatOpenAI } from '@langchain/openai';
import { OpenAI as LlamaOpenAI } from '@llamaindex/openai';
import { ShardedCollection, closeEmbeddedStores } from '@ragwire/client';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, EMBED_MODEL } from './chat-ab';
import { startSimProcess, type SimProcess } from './processes';

const KEY = 'sk-rag';
const ALIAS = `rag/${CHAT_MODEL}`;
const DOCS = [
  {
    id: 'shards',
    text: 'A shard server holds one partition of the vectors and answers queries over a binary protocol.',
    metadata: { source: 'docs/shards.md', lang: 'en' },
  },
  {
    id: 'merge',
    text: 'The client fans a query out to every shard and merges the top k results with a heap.',
    metadata: { source: 'docs/client.md', lang: 'en' },
  },
  { id: 'proxy', text: 'The proxy batches embeddings, queues requests and routes them to vLLM replicas.', metadata: { source: 'docs/proxy.md', lang: 'en' } },
  {
    id: 'hnsw',
    text: 'HNSW is a graph index: search walks the layers greedily towards the nearest vectors.',
    metadata: { source: 'docs/engine.md', lang: 'en' },
  },
  { id: 'store', text: 'Le magasin garde les vecteurs dans LMDB et reconstruit l index au besoin.', metadata: { source: 'docs/store.md', lang: 'fr' } },
  { id: 'cache', text: 'A prefix cache keeps the KV blocks of prompts that share a long prefix.', metadata: { source: 'docs/cache.md', lang: 'en' } },
];
const QUESTION = 'How does the client merge the results of every shard?';

let sim: SimProcess;
let proxy: RunningProxy;
let dir: string;
let direct: ShardedCollection;

/** The simulator's embedding of `texts`, asked of it directly (not through the proxy). */
async function embedDirect(texts: string[]): Promise<Float32Array> {
  const res = await fetch(`${sim.urls[0]}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: EMBED_MODEL, input: texts }),
  });
  const body = (await res.json()) as { data: { embedding: number[] }[] };
  return Float32Array.from(body.data.flatMap((d) => d.embedding));
}

/** The ids a direct retrieval (the question embedded, the store queried) returns. */
async function directIds(question: string, k: number, filter?: object): Promise<string[]> {
  const result = await direct.query({ vectors: await embedDirect([question]), k, ...(filter ? { filter } : {}) });
  return result.ids;
}

beforeAll(async () => {
  sim = await startSimProcess();
  dir = mkdtempSync(join(tmpdir(), 'ragwire-proxy-rag-'));
  direct = new ShardedCollection({ shards: [[`embedded://${encodeURI(join(dir, 'docs'))}`]], collection: 'docs' });
  await direct.createCollection({ dim: 64, metric: 'cosine', kind: 'flat', storage: 'f32' });
  await direct.upsert({
    ids: DOCS.map((d) => d.id),
    vectors: await embedDirect(DOCS.map((d) => d.text)),
    payloads: DOCS.map((d) => ({ text: d.text, metadata: d.metadata })),
  });
  const other = new ShardedCollection({ shards: [[`embedded://${encodeURI(join(dir, 'other'))}`]], collection: 'other' });
  await other.createCollection({ dim: 32, metric: 'cosine', kind: 'flat', storage: 'f32' });
  await other.close();
  proxy = await startProxy({
    upstreams: sim.urls,
    port: 0,
    logLevel: 'silent',
    auth: { keys: [{ key: KEY }] },
    rag: {
      collections: {
        docs: { path: join(dir, 'docs'), embeddingModel: EMBED_MODEL },
        wrongDim: { path: join(dir, 'other'), collection: 'other', embeddingModel: EMBED_MODEL },
        missing: { path: join(dir, 'docs'), collection: 'nope', embeddingModel: EMBED_MODEL },
      },
      aliases: { [ALIAS]: { model: CHAT_MODEL, collection: 'docs', k: 3 } },
    },
  });
});

afterAll(async () => {
  await proxy?.close();
  await direct?.close();
  await closeEmbeddedStores();
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const client = () => new OpenAI({ apiKey: KEY, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
type Sourced = {
  ragwire?: {
    collection: string;
    sources: { id: string; score: number; text: string; metadata: Record<string, unknown>; rerankScore?: number }[];
    timings: Record<string, number>;
  };
};

describe('retrieval-augmented chat in the proxy', () => {
  it('answers the model alias with the sources a direct retrieval finds, streamed (first chunk) and not', async () => {
    const expected = await directIds(QUESTION, 3);
    expect(expected).toHaveLength(3);
    const messages = [{ role: 'user' as const, content: QUESTION }];
    const whole = (await client().chat.completions.create({ model: ALIAS, messages, max_tokens: 16 })) as OpenAI.ChatCompletion & Sourced;
    expect(whole.ragwire!.collection).toBe('docs');
    expect(whole.ragwire!.sources.map((s) => s.id)).toEqual(expected);
    expect(whole.ragwire!.sources[0]!.text).toBe(DOCS.find((d) => d.id === expected[0])!.text);
    expect(whole.ragwire!.timings.embedMs).toBeGreaterThan(0);
    expect(whole.choices[0]!.message.content!.length).toBeGreaterThan(0);

    const stream = await client().chat.completions.create({ model: ALIAS, messages, max_tokens: 16, stream: true });
    let text = '';
    const carrying: number[] = [];
    let i = 0;
    for await (const chunk of stream) {
      if ((chunk as Sourced).ragwire) carrying.push(i);
      if (i === 0) expect((chunk as Sourced).ragwire!.sources.map((s) => s.id)).toEqual(expected);
      text += chunk.choices[0]?.delta?.content ?? '';
      i++;
    }
    expect(carrying).toEqual([0]);
    expect(text).toBe(whole.choices[0]!.message.content);

    // Retrieval changed the prompt: the plain model answers the same question differently.
    const plain = await client().chat.completions.create({ model: CHAT_MODEL, messages, max_tokens: 16 });
    expect(plain.choices[0]!.message.content).not.toBe(whole.choices[0]!.message.content);
  });

  it('takes the ragwire body field: collection, k, filter, rerank and template', async () => {
    const filter = { must: [{ key: 'lang', eq: 'en' }] };
    const res = (await client().chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: QUESTION }],
      max_tokens: 8,
      ragwire: { collection: 'docs', k: 4, filter, rerank: { model: EMBED_MODEL, topN: 2 }, template: 'Use these:\n{context}\nQuestion: {question}' },
    } as never)) as OpenAI.ChatCompletion & Sourced;
    const retrieved = await directIds(QUESTION, 4, filter);
    expect(retrieved).not.toContain('store');
    // The reranker's order, asked of the simulator directly.
    const rerank = await fetch(`${sim.urls[0]}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: EMBED_MODEL, query: QUESTION, documents: retrieved.map((id) => DOCS.find((d) => d.id === id)!.text), top_n: 2 }),
    }).then((r) => r.json() as Promise<{ results: { index: number; relevance_score: number }[] }>);
    expect(res.ragwire!.sources.map((s) => s.id)).toEqual(rerank.results.map((r) => retrieved[r.index]));
    expect(res.ragwire!.sources.map((s) => s.rerankScore)).toEqual(rerank.results.map((r) => r.relevance_score));
    expect(res.ragwire!.timings.rerankMs).toBeGreaterThan(0);
  });

  it.each([
    [{ collection: 'nope' }, 'unknown_collection', 'ragwire.collection'],
    [{ collection: 'missing' }, 'unknown_collection', 'ragwire.collection'],
    [{ collection: 'docs', filter: { must: [{ key: 'lang', op: 'eq' }] } }, 'invalid_filter', 'ragwire.filter'],
    [{ collection: 'wrongDim' }, 'dimension_mismatch', 'ragwire.collection'],
    [{ collection: 'docs', k: 0 }, 'invalid_request', 'ragwire.k'],
    [{ collection: 'docs', k: 1000 }, 'invalid_request', 'ragwire.k'],
    [{ collection: 'docs', template: 'no slot' }, 'invalid_request', 'ragwire.template'],
    [{ collection: 'docs', rerank: { model: 'no-such-reranker' } }, 'model_not_found', 'ragwire.rerank.model'],
    [{ k: 2 }, 'invalid_request', 'ragwire.collection'],
    [{ collection: 'docs', extra: 1 }, 'invalid_request', 'ragwire.extra'],
  ])('refuses the bad retrieval %j as an OpenAI-shaped 4xx (%s)', async (ragwire, code, param) => {
    const error = await client()
      .chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: QUESTION }], max_tokens: 4, ragwire } as never)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const e = error as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(code === 'model_not_found' ? 404 : 400);
    expect(e.code).toBe(code);
    expect(e.param).toBe(param);
  });

  it('lists the alias among the models and charts the retrieval stages', async () => {
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toContain(ALIAS);
    const series = await (await fetch(`${proxy.url}/dashboard/api/series`, { headers: { authorization: `Bearer ${KEY}` } })).json();
    expect(Object.keys(series.stages)).toEqual(expect.arrayContaining(['rag_embed', 'rag_retrieve', 'rag_rerank', 'rag_ttft']));
  });

  it('gives LangChain ChatOpenAI and LlamaIndex OpenAI retrieval by the alias alone', async () => {
    const viaSdk = await client().chat.completions.create({ model: ALIAS, messages: [{ role: 'user', content: QUESTION }], max_tokens: 12, temperature: 0 });
    const chat = new ChatOpenAI({ model: ALIAS, apiKey: KEY, temperature: 0, maxTokens: 12, configuration: { baseURL: `${proxy.url}/v1` }, maxRetries: 0 });
    const message = await chat.invoke(QUESTION);
    expect(message.content).toBe(viaSdk.choices[0]!.message.content);
    let streamed = '';
    for await (const chunk of await chat.stream(QUESTION)) streamed += chunk.content as string;
    expect(streamed).toBe(message.content);

    const llm = new LlamaOpenAI({ model: ALIAS, apiKey: KEY, baseURL: `${proxy.url}/v1`, temperature: 0, maxTokens: 12 });
    const res = await llm.chat({ messages: [{ role: 'user', content: QUESTION }] });
    expect(res.message.content).toBe(viaSdk.choices[0]!.message.content);
    // The raw answer LlamaIndex keeps carries the sources.
    expect(((res.raw as Sourced).ragwire?.sources ?? []).map((s) => s.id)).toEqual(await directIds(QUESTION, 3));
  });
});
