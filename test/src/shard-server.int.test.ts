// The ragwire-shard process: admin endpoints, unix sockets, SIGTERM drain, refusing to listen openly without tokens.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ShardClient, ShardedCollection } from '@ragwire/client';
import type { ResultReply } from '@ragwire/protocol';
import { REPO_ROOT, TCP_SCHEMES, TS_NODE_ARGS, killAll, startShardProcess, tempDir } from './processes';
import { RawConnection } from './raw-connection';

afterAll(() => killAll());

describe.each(TCP_SCHEMES)('ragwire-shard over %s://', (scheme) => {
  it('serves tcp and unix sockets, the admin endpoints, and drains on SIGTERM', async () => {
    const dir = tempDir('server');
    const sock = join(dir.path, 'shard.sock');
    const server = await startShardProcess({
      dataDir: join(dir.path, 'data'),
      listen: [`${scheme}://127.0.0.1:0`, `unix://${sock}`],
      admin: true,
      tokens: ['admin-token-0001', 'reader-token-01:read:*'],
    });
    expect(server.addresses[1]).toBe(`unix://${sock}`);
    const overUnix = new ShardedCollection({ shards: [[server.addresses[1]!]], collection: 'docs', token: 'admin-token-0001' });
    await overUnix.createCollection({ dim: 16, metric: 'cosine', kind: 'flat', storage: 'f32' });
    const n = 20_000;
    const vectors = new Float32Array(n * 16).map((_, i) => Math.sin(i));
    await overUnix.upsert({ ids: Array.from({ length: n }, (_, i) => `u${i}`), vectors });

    const admin = server.adminUrl!;
    expect(await (await fetch(`${admin}/healthz`)).json()).toMatchObject({ status: 'ok' });
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    expect((await fetch(`${admin}/stats`)).status).toBe(401);
    const stats = (await (await fetch(`${admin}/stats`, { headers: { authorization: 'Bearer reader-token-01' } })).json()) as {
      collections: { name: string; count: number }[];
    };
    expect(stats.collections[0]).toMatchObject({ name: 'docs', count: n });
    // With tokens, /metrics names collections only to a token with read scope on '*'; the scheme is case-insensitive.
    expect((await fetch(`${admin}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${admin}/metrics`, { headers: { authorization: 'bearer reader-token-01' } })).text();
    expect(metrics).toContain('ragwire_shard_requests_total{type="upsert",code="ok"}');
    expect(metrics).toContain('ragwire_shard_collection_documents{collection="docs"} 20000');
    expect(metrics).toContain('ragwire_shard_request_duration_seconds_bucket');

    // Pipeline 40 heavy queries, then SIGTERM: every one is answered, and the process exits 0.
    const raw = await RawConnection.open(server.addresses[0]!);
    raw.send({ type: 'hello', versions: [1], token: 'reader-token-01' }, 1);
    await raw.reply(1);
    for (let id = 2; id < 42; id++)
      raw.send({ type: 'query', collection: 'docs', dim: 16, k: 10, vectors: vectors.subarray(0, 64 * 16), options: { exact: true } }, id);
    await new Promise((r) => setTimeout(r, 20));
    server.child.kill('SIGTERM');
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => raw.reply(i + 2, 10_000)));
    for (const o of outcomes) {
      if (o.type === 'error') expect(o.code).toBe('RAGWIRE_ERR_CLOSED');
      else expect((o as ResultReply).counts.length).toBe(64);
    }
    expect(outcomes.filter((o) => o.type === 'result').length).toBeGreaterThan(0);
    expect(await server.exited).toBe(0);
    await overUnix.close();

    // The data is there after a restart, over the same unix path.
    const again = await startShardProcess({ dataDir: join(dir.path, 'data'), listen: [`unix://${sock}`], tokens: ['admin-token-0001'] });
    const client = new ShardClient(again.addresses[0]!, { token: 'admin-token-0001' });
    const d = await client.request({ type: 'describe', collection: 'docs' });
    expect(d.collections[0]!.count).toBe(n);
    await client.close();
    expect(await again.stop()).toBe(0);
    dir.cleanup();
  });

  it('refuses a non-loopback address without --token, naming the reason', async () => {
    const dir = tempDir('open');
    const child = spawn(
      process.execPath,
      [...TS_NODE_ARGS, join(REPO_ROOT, 'servers/shard-server/src/cli.ts'), '--listen', `${scheme}://0.0.0.0:0`, '--data', dir.path],
      { cwd: REPO_ROOT },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(stderr).toMatch(/0\.0\.0\.0 is not a loopback address/);
    dir.cleanup();
  });
});
