import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { OpenAI as LlamaOpenAI, OpenAIEmbedding as LlamaOpenAIEmbedding } from '@llamaindex/openai';
import { runProxyCliToExit, startProxyProcess, startSimProcess, type ProxyProcess, type SimProcess } from './processes';

const MODEL = 'ragwire/sim-8b';
const EMBED = 'ragwire/sim-embed';
const KEY = 'sk-test-main';
const SLOW_KEY = 'sk-test-limited';

let sim: SimProcess;
let proxy: ProxyProcess;
let baseURL: string;

beforeAll(async () => {
  sim = await startSimProcess(['--replicas', '2']);
  const yaml = `auth:\n  keys:\n    - { key: ${KEY}, name: main }\n    - { key: ${SLOW_KEY}, name: limited, requestsPerSecond: 2, burst: 1 }\nbodyLimitBytes: 65536\n`;
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'ragwire-proxy-')), 'proxy.yaml');
  writeFileSync(file, yaml);
  proxy = await startProxyProcess(['--config', file, ...sim.urls.flatMap((u) => ['--upstream', u]), '--log-level', 'info']);
  baseURL = `${proxy.url}/v1`;
});

afterAll(async () => {
  await proxy?.stop();
  await sim?.stop();
});

describe('openai SDK through the proxy', () => {
  const client = () => new OpenAI({ apiKey: KEY, baseURL, maxRetries: 0 });

  it('chats, and a stream carries the same content plus usage', async () => {
    const messages = [{ role: 'user' as const, content: 'What does a vector index do?' }];
    const { data: full, response } = await client().chat.completions.create({ model: MODEL, messages, max_tokens: 12, temperature: 0 }).withResponse();
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(full.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(full.usage!.completion_tokens).toBe(12);

    const stream = await client().chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 12,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    let usageChunkChoices = -1;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) {
        usage = chunk.usage;
        usageChunkChoices = chunk.choices.length;
      }
    }
    expect(text).toBe(full.choices[0]!.message.content);
    expect(usage).toEqual(full.usage);
    expect(usageChunkChoices).toBe(0);
  });

  it('passes x-request-id both ways', async () => {
    const { response } = await client()
      .chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }, { headers: { 'x-request-id': 'trace-42' } })
      .withResponse();
    expect(response.headers.get('x-request-id')).toBe('trace-42');
  });

  it('streams tool-call deltas intact', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'search_docs', parameters: { type: 'object', properties: { query: { type: 'string' }, k: { type: 'integer' } } } },
      },
    ];
    const messages = [{ role: 'user' as const, content: 'find documents about retrieval latency' }];
    const full = await client().chat.completions.create({ model: MODEL, messages, tools });
    const call = full.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    const runner = client().chat.completions.stream({ model: MODEL, messages, tools });
    const final = await runner.finalChatCompletion();
    const streamed = final.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(streamed.function.name).toBe('search_docs');
    expect(streamed.function.arguments).toBe(call.function.arguments);
    expect(JSON.parse(streamed.function.arguments)).toHaveProperty('query');
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('serves completions with list prompts', async () => {
    const res = await client().completions.create({ model: MODEL, prompt: ['alpha beta', 'gamma delta'], max_tokens: 4, n: 2 });
    expect(res.choices.map((c) => c.index).sort()).toEqual([0, 1, 2, 3]);
  });

  it('gives identical embeddings in float and base64', async () => {
    const input = ['retrieval augmented generation', 'a second document', 'third'];
    const asFloat = await client().embeddings.create({ model: EMBED, input, encoding_format: 'float' });
    const asBase64 = await client().embeddings.create({ model: EMBED, input }); // the SDK asks for base64 and decodes it
    expect(asFloat.data).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      expect(asBase64.data[i]!.embedding).toEqual(asFloat.data[i]!.embedding);
      expect(asFloat.data[i]!.index).toBe(i);
    }
    expect(asFloat.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('coalesces concurrent single-input embeddings and splits them back by index', async () => {
    const texts = Array.from({ length: 24 }, (_, i) => `document number ${i} about shards`);
    const one = await Promise.all(texts.map((t) => client().embeddings.create({ model: EMBED, input: t, encoding_format: 'float' })));
    const all = await client().embeddings.create({ model: EMBED, input: texts, encoding_format: 'float' });
    one.forEach((r, i) => expect(r.data[0]!.embedding).toEqual(all.data[i]!.embedding));
    const batches = await (await fetch(`${proxy.url}/metrics`)).text();
    const count = Number(/ragwire_proxy_batch_size_count\{kind="embeddings",model="ragwire\/sim-embed"\} (\d+)/.exec(batches)![1]);
    const sum = Number(/ragwire_proxy_batch_size_sum\{kind="embeddings",model="ragwire\/sim-embed"\} (\d+)/.exec(batches)![1]);
    expect(sum / count).toBeGreaterThan(1); // some calls were merged
  });

  it('raises the SDK typed errors', async () => {
    await expect(client().chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    await expect(new OpenAI({ apiKey: 'sk-wrong', baseURL, maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const bad = await client()
      .chat.completions.create({ model: MODEL, messages: 'hello' as never })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages');
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_request');
  });

  it('honours a 429 with the SDK retry', async () => {
    const statuses: number[] = [];
    const counting: typeof fetch = async (url, init) => {
      const res = await fetch(url, init);
      statuses.push(res.status);
      return res;
    };
    const limited = new OpenAI({ apiKey: SLOW_KEY, baseURL, maxRetries: 3, fetch: counting });
    await limited.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'one' }], max_tokens: 1 });
    const started = performance.now();
    await limited.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'two' }], max_tokens: 1 });
    expect(statuses).toContain(429);
    expect(statuses.at(-1)).toBe(200);
    expect(performance.now() - started).toBeGreaterThan(200); // it waited for retry-after-ms
  });
});

describe('LangChain classes through the proxy', () => {
  it('ChatOpenAI invokes and streams the same text', async () => {
    const chat = new ChatOpenAI({ model: MODEL, apiKey: KEY, temperature: 0, maxTokens: 10, configuration: { baseURL }, maxRetries: 0 });
    const message = await chat.invoke('Summarise the retrieved context.');
    let streamed = '';
    for await (const chunk of await chat.stream('Summarise the retrieved context.')) streamed += chunk.content as string;
    expect(typeof message.content).toBe('string');
    expect(streamed).toBe(message.content);
    expect(message.usage_metadata?.output_tokens).toBe(10);
  });

  it('OpenAIEmbeddings embeds queries and documents consistently', async () => {
    const embeddings = new OpenAIEmbeddings({ model: EMBED, apiKey: KEY, configuration: { baseURL }, maxRetries: 0 });
    const [docs, query] = await Promise.all([embeddings.embedDocuments(['alpha doc', 'beta doc']), embeddings.embedQuery('alpha doc')]);
    expect(docs).toHaveLength(2);
    expect(docs[0]).toHaveLength(64);
    expect(query).toEqual(docs[0]);
  });

  it('surfaces proxy errors', async () => {
    const chat = new ChatOpenAI({ model: 'no-such-model', apiKey: KEY, configuration: { baseURL }, maxRetries: 0 });
    await expect(chat.invoke('x')).rejects.toThrow(/does not exist/);
  });
});

describe('LlamaIndex OpenAI classes through the proxy', () => {
  it('OpenAI chats and streams the same text', async () => {
    const llm = new LlamaOpenAI({ model: MODEL, apiKey: KEY, baseURL, temperature: 0, maxTokens: 8 });
    const res = await llm.chat({ messages: [{ role: 'user', content: 'What is a shard?' }] });
    let streamed = '';
    for await (const chunk of await llm.chat({ messages: [{ role: 'user', content: 'What is a shard?' }], stream: true })) streamed += chunk.delta;
    expect(String(res.message.content).length).toBeGreaterThan(0);
    expect(streamed).toBe(res.message.content);
  });

  it('OpenAIEmbedding embeds text', async () => {
    const embed = new LlamaOpenAIEmbedding({ model: EMBED, apiKey: KEY, baseURL });
    const [a, b] = await Promise.all([embed.getTextEmbedding('same text'), embed.getTextEmbeddings(['same text', 'other'])]);
    expect(a).toHaveLength(64);
    expect(b[0]).toEqual(a);
  });
});

describe('malformed requests get the right 4xx in OpenAI shape', () => {
  const post = (path: string, body: string, key = KEY) =>
    fetch(`${proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
  // A body streamed in 8 KiB chunks with no content-length: the proxy can only find its size by reading it.
  const postChunked = (path: string, body: string) => {
    const bytes = Buffer.from(body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 8192) controller.enqueue(bytes.subarray(at, at + 8192));
        controller.close();
      },
    });
    return fetch(`${proxy.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
  };
  const cases: [string, () => Promise<Response>, number, string, string | null][] = [
    ['malformed JSON', () => post('/v1/chat/completions', '{"model": '), 400, 'invalid_json', null],
    [
      'wrong type',
      () => post('/v1/chat/completions', JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: 'yes' })),
      400,
      'invalid_request',
      'stream',
    ],
    [
      'wrong type in a message',
      () => post('/v1/chat/completions', JSON.stringify({ model: MODEL, messages: [{ role: 7 }] })),
      400,
      'invalid_request',
      'messages[0].role',
    ],
    [
      'embedding format',
      () => post('/v1/embeddings', JSON.stringify({ model: EMBED, input: 'x', encoding_format: 'int8' })),
      400,
      'invalid_request',
      'encoding_format',
    ],
    [
      'oversize body',
      () => post('/v1/chat/completions', JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(70_000) }] })),
      413,
      'body_too_large',
      null,
    ],
    [
      'oversize body sent chunked (no length given)',
      () => postChunked('/v1/chat/completions', JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(70_000) }] })),
      413,
      'body_too_large',
      null,
    ],
    ['empty body', () => post('/v1/chat/completions', ''), 400, 'invalid_request', 'body'],
    ['unknown model', () => post('/v1/embeddings', JSON.stringify({ model: 'nope', input: 'x' })), 404, 'model_not_found', 'model'],
    ['bad key', () => post('/v1/chat/completions', JSON.stringify({ model: MODEL, messages: [] }), 'sk-nope'), 401, 'invalid_api_key', null],
    ['unknown route', () => post('/v1/nothing', '{}'), 404, 'not_found', null],
  ];
  for (const [name, send, status, code, param] of cases) {
    it(name, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.param).toBe(param);
      expect(typeof body.error.message).toBe('string');
      expect(typeof body.error.type).toBe('string');
    });
  }
});

describe('the OpenAI routes', () => {
  it('accept a query string (as Azure-style clients send api-version)', async () => {
    const res = await fetch(`${proxy.url}/v1/chat/completions?api-version=2024-06-01`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: unknown[] }).choices).toHaveLength(1);
  });

  it('answer other methods with 404 in OpenAI shape', async () => {
    const res = await fetch(`${proxy.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

describe('configuration', () => {
  it('refuses a bad field at start, naming it', async () => {
    const { code, stderr } = await runProxyCliToExit(['--upstream', 'http://127.0.0.1:1', '--max-queue', '-3']);
    expect(code).toBe(2);
    expect(stderr).toContain('admission.maxQueue');
  });
});

describe('completions coalescing (completionsBatching.enabled)', () => {
  it('merges concurrent same-parameter completions into list prompts and gives each caller its own answer', async () => {
    const coalescing = await startProxyProcess([...sim.urls.flatMap((u) => ['--upstream', u]), '--completions-batching', '--log-level', 'warn']);
    try {
      const via = new OpenAI({ apiKey: 'unused', baseURL: `${coalescing.url}/v1`, maxRetries: 0 });
      const direct = new OpenAI({ apiKey: 'unused', baseURL: `${sim.urls[0]}/v1`, maxRetries: 0 });
      const prompts = Array.from({ length: 16 }, (_, i) => `Question ${i}: which shard holds document ${i * 7}?`);
      const ask = (c: OpenAI, prompt: string) => c.completions.create({ model: MODEL, prompt, max_tokens: 6, temperature: 0 }).withResponse();
      const merged = await Promise.all(prompts.map((p) => ask(via, p)));
      const alone = await Promise.all(prompts.map((p) => ask(direct, p)));
      merged.forEach(({ data }, i) => {
        expect(data.choices).toHaveLength(1);
        expect(data.choices[0]!.index).toBe(0);
        expect(data.choices[0]!.text).toBe(alone[i]!.data.choices[0]!.text);
        expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
      });
      const sum = (rs: typeof merged, f: (u: OpenAI.CompletionUsage) => number) => rs.reduce((s, r) => s + f(r.data.usage!), 0);
      expect(sum(merged, (u) => u.prompt_tokens)).toBe(sum(alone, (u) => u.prompt_tokens));
      expect(sum(merged, (u) => u.completion_tokens)).toBe(sum(alone, (u) => u.completion_tokens));
      expect(new Set(merged.map((r) => r.data.id)).size).toBe(prompts.length);
      const sizes = merged.map((r) => Number(r.response.headers.get('x-ragwire-coalesced')));
      expect(Math.max(...sizes)).toBeGreaterThan(1);
      const metrics = await (await fetch(`${coalescing.url}/metrics`)).text();
      const count = Number(/ragwire_proxy_batch_size_count\{kind="completions",model="ragwire\/sim-8b"\} (\d+)/.exec(metrics)![1]);
      const total = Number(/ragwire_proxy_batch_size_sum\{kind="completions",model="ragwire\/sim-8b"\} (\d+)/.exec(metrics)![1]);
      expect(total).toBe(prompts.length);
      expect(count).toBeLessThan(prompts.length);

      // n = 2 is not coalescible: it goes upstream on its own, with both choices.
      const two = await via.completions.create({ model: MODEL, prompt: 'two answers', max_tokens: 3, n: 2 }).withResponse();
      expect(two.data.choices).toHaveLength(2);
      expect(two.response.headers.get('x-ragwire-coalesced')).toBeNull();
    } finally {
      await coalescing.stop();
    }
  });
});
