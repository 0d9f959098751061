// Keys as tenants: scoped to models and collections (directly and through a retrieval alias), token
// budgets counted from real usage (streams included), spend per key in /metrics, keys from a hashed
// file reloaded on SIGHUP.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardedCollection, closeEmbeddedStores } from '@ragwire/client';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey, startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, EMBED_MODEL } from './chat-ab';
import { startProxyProcess, startSimProcess, type SimProcess } from './processes';

const ALPHA = 'sk-alpha';
const BETA = 'sk-beta';
const GAMMA = 'sk-gamma';

let sim: SimProcess;
let proxy: RunningProxy;
let dir: string;

beforeAll(async () => {
  sim = await startSimProcess();
  dir = mkdtempSync(join(tmpdir(), 'ragwire-tenants-'));
  for (const name of ['docs', 'secret']) {
    const c = new ShardedCollection({ shards: [[`embedded://${encodeURI(join(dir, name))}`]], collection: name });
    await c.createCollection({ dim: 64, metric: 'cosine', kind: 'flat', storage: 'f32' });
    const v = new Float32Array(64).fill(0.125);
    await c.upsert({ ids: [`${name}-1`], vectors: v, payloads: [{ text: `the ${name} document`, metadata: {} }] });
    await c.close();
  }
  const keysFile = join(dir, 'keys.yaml');
  writeFileSync(
    keysFile,
    [
      'keys:',
      `  - { name: alpha, keyHash: "${hashKey(ALPHA)}", models: [${CHAT_MODEL}, rag/docs], collections: [docs], tokensPerMinute: 150 }`,
      `  - { name: beta, keyHash: "${hashKey(BETA)}", models: [${EMBED_MODEL}] }`,
      `  - { name: gamma, keyHash: "${hashKey(GAMMA)}", collections: [docs] }`,
    ].join('\n'),
  );
  proxy = await startProxy({
    upstreams: sim.urls,
    port: 0,
    logLevel: 'silent',
    host: '127.0.0.1',
    auth: { keysFile, metricsAccess: 'key' },
    rag: {
      collections: { docs: { path: join(dir, 'docs'), embeddingModel: EMBED_MODEL }, secret: { path: join(dir, 'secret'), embeddingModel: EMBED_MODEL } },
      aliases: { 'rag/docs': { model: CHAT_MODEL, collection: 'docs', k: 1 }, 'rag/secret': { model: CHAT_MODEL, collection: 'secret', k: 1 } },
    },
  });
});

afterAll(async () => {
  await proxy?.close();
  await closeEmbeddedStores();
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const as = (key: string) => new OpenAI({ apiKey: key, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
  );
const ask = (content: string) => [{ role: 'user' as const, content }];

describe('tenants', () => {
  it('keeps each key to its models: 403 elsewhere, and /v1/models lists only its own', async () => {
    const denied = await failure(as(BETA).chat.completions.create({ model: CHAT_MODEL, messages: ask('hi'), max_tokens: 2 }));
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(denied!.code).toBe('model_forbidden');
    expect((await as(BETA).embeddings.create({ model: EMBED_MODEL, input: 'ok' })).data).toHaveLength(1);
    expect((await as(BETA).models.list()).data.map((m) => m.id)).toEqual([EMBED_MODEL]);
    const rerank = await fetch(`${proxy.url}/v1/rerank`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALPHA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: EMBED_MODEL, query: 'q', documents: ['d'] }),
    });
    expect(rerank.status).toBe(403);
  });

  it('keeps each key to its collections, through the ragwire field and through an alias', async () => {
    const ok = (await as(GAMMA).chat.completions.create({ model: 'rag/docs', messages: ask('the docs?'), max_tokens: 2 })) as OpenAI.ChatCompletion & {
      ragwire: { sources: { id: string }[] };
    };
    expect(ok.ragwire.sources.map((s) => s.id)).toEqual(['docs-1']);
    for (const request of [
      { model: 'rag/secret', messages: ask('the secret?'), max_tokens: 2 },
      { model: CHAT_MODEL, messages: ask('the secret?'), max_tokens: 2, ragwire: { collection: 'secret' } },
    ]) {
      const e = await failure(as(GAMMA).chat.completions.create(request as never));
      expect(e).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect(e!.code).toBe('collection_forbidden');
    }
    // alpha's model list names the alias, not rag/secret: the alias itself is refused.
    expect((await failure(as(ALPHA).chat.completions.create({ model: 'rag/secret', messages: ask('x'), max_tokens: 2 })))!.code).toBe('model_forbidden');
  });

  it('counts real usage, streams included, refuses a spent budget with 429 and a reason, and reports spend per key', async () => {
    const whole = await as(ALPHA).chat.completions.create({ model: CHAT_MODEL, messages: ask('count me'), max_tokens: 20 });
    const stream = await as(ALPHA).chat.completions.create({ model: CHAT_MODEL, messages: ask('count me too'), max_tokens: 20, stream: true });
    let streamedUsage = 0;
    for await (const chunk of stream) if (chunk.usage) streamedUsage = chunk.usage.total_tokens;
    // The client did not ask for usage; the proxy asked for it to count the stream, and passed it on.
    expect(streamedUsage).toBeGreaterThan(20);
    const metrics = () => fetch(`${proxy.url}/metrics`, { headers: { authorization: `Bearer ${BETA}` } }).then((r) => r.text());
    const keyTokens = (text: string) => Number(/ragwire_proxy_key_tokens_total\{key="alpha"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(keyTokens(await metrics())).toBe(whole.usage!.total_tokens + streamedUsage);
    let refused: InstanceType<typeof OpenAI.APIError> | undefined;
    for (let i = 0; i < 10 && !refused; i++)
      refused = await failure(as(ALPHA).chat.completions.create({ model: CHAT_MODEL, messages: ask(`more ${i}`), max_tokens: 20 }));
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(refused!.code).toBe('budget_exceeded');
    expect(refused!.message).toMatch(/150 tokens per minute/);
    expect(Number(refused!.headers?.get('retry-after-ms'))).toBeGreaterThan(0);
    // Another key is not affected.
    expect((await as(BETA).embeddings.create({ model: EMBED_MODEL, input: 'still fine' })).data).toHaveLength(1);
  });

  it('asks for a key on /metrics when auth.metricsAccess says so', async () => {
    expect((await fetch(`${proxy.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${proxy.url}/metrics`, { headers: { authorization: `Bearer ${GAMMA}` } })).status).toBe(200);
    expect((await fetch(`${proxy.url}/healthz`)).status).toBe(200);
  });
});

describe('the keys file', () => {
  it('is re-read on SIGHUP: a new key works, a removed key stops working; a broken file keeps the old keys', async () => {
    const file = join(dir, 'reload.yaml');
    writeFileSync(file, `- { name: first, keyHash: "${hashKey('sk-first')}" }\n`);
    const cli = await startProxyProcess(['--keys-file', file, ...sim.urls.flatMap((u) => ['--upstream', u]), '--log-level', 'info']);
    let logged = '';
    cli.child.stdout!.on('data', (d: Buffer) => (logged += d.toString()));
    try {
      const models = (key: string) => fetch(`${cli.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
      expect(await models('sk-first')).toBe(200);
      expect(await models('sk-second')).toBe(401);
      const until = async (check: () => Promise<boolean>) => {
        for (let i = 0; i < 100; i++) {
          if (await check()) return true;
          await new Promise((r) => setTimeout(r, 50));
        }
        return false;
      };
      writeFileSync(file, `- { name: second, keyHash: "${hashKey('sk-second')}" }\n`);
      cli.child.kill('SIGHUP');
      expect(await until(async () => (await models('sk-second')) === 200)).toBe(true);
      expect(await models('sk-first')).toBe(401);
      writeFileSync(file, 'keys: [ { name: broken, keyHash: nope } ]\n');
      cli.child.kill('SIGHUP');
      expect(await until(async () => logged.includes('not reloaded'))).toBe(true);
      expect(await models('sk-second')).toBe(200);
    } finally {
      await cli.stop();
    }
  });
});
