// Shard tokens follow the proxy's tenants: a key with its own token for a collection's shard server
// reaches the shards with it, so the shard server's own scopes hold for the key too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardedCollection } from '@ragwire/client';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, EMBED_MODEL } from './chat-ab';
import { startShardProcess, startSimProcess, type ShardProcess, type SimProcess } from './processes';

let sim: SimProcess;
let shard: ShardProcess;
let proxy: RunningProxy;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ragwire-shard-tokens-'));
  [sim, shard] = await Promise.all([
    startSimProcess(),
    startShardProcess(join(dir, 'shard'), ['--token', 'tok-admin:admin:*', '--token', 'tok-docs:read:docs', '--token', 'tok-secret:read:secret']),
  ]);
  for (const name of ['docs', 'secret']) {
    const c = new ShardedCollection({ shards: [[shard.url]], collection: name, token: 'tok-admin' });
    await c.createCollection({ dim: 64, metric: 'cosine', kind: 'flat', storage: 'f32' });
    await c.upsert({ ids: [`${name}-1`], vectors: new Float32Array(64).fill(0.125), payloads: [{ text: `the ${name} document`, metadata: {} }] });
    await c.close();
  }
  proxy = await startProxy({
    upstreams: sim.urls,
    port: 0,
    logLevel: 'silent',
    auth: {
      keys: [
        { key: 'sk-docs', name: 'docs-team', shardTokens: { docs: 'tok-docs', secret: 'tok-docs' } },
        { key: 'sk-ops', name: 'ops', shardTokens: { secret: 'tok-secret' } },
      ],
    },
    rag: { collections: { docs: { shards: [[shard.url]], embeddingModel: EMBED_MODEL }, secret: { shards: [[shard.url]], embeddingModel: EMBED_MODEL } } },
  });
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([sim?.stop(), shard?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ask = (key: string, collection: string) =>
  new OpenAI({ apiKey: key, baseURL: `${proxy.url}/v1`, maxRetries: 0 }).chat.completions.create({
    model: CHAT_MODEL,
    messages: [{ role: 'user', content: 'which document?' }],
    max_tokens: 2,
    ragwire: { collection, k: 1 },
  } as never) as Promise<OpenAI.ChatCompletion & { ragwire: { sources: { id: string }[] } }>;

describe('shard tokens per key', () => {
  it("reaches the shards with the key's own token, and the shard server's scope refuses what the token does not cover", async () => {
    expect((await ask('sk-docs', 'docs')).ragwire.sources.map((s) => s.id)).toEqual(['docs-1']);
    expect((await ask('sk-ops', 'secret')).ragwire.sources.map((s) => s.id)).toEqual(['secret-1']);
    const refused = await ask('sk-docs', 'secret').then(
      () => undefined,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    );
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(refused!.code).toBe('collection_forbidden');
    // The refusal is the key's: its token for docs still works.
    expect((await ask('sk-docs', 'docs')).ragwire.sources.map((s) => s.id)).toEqual(['docs-1']);
  });
});
