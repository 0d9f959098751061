// ucx:// end to end: a real ragwire-shard process listening on ucx://127.0.0.1:0, a ShardClient in
// this process, real UCX between them (UCX_TLS as the environment sets it: CI runs this file with
// UCX_TLS=tcp and with UCX_TLS=sm,self, shared memory only). Auth, large frames, pipelining, a
// peer killed mid-request, and a client that never reads, as over tcp://.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { transports } from '@ragwire/native';
import { encodeFrame, type Request } from '@ragwire/protocol';
import { connectNeverReading, metricValue, rssMiB, sampleRss, sleep } from './peer-memory';
import { expectKilledMidRequestIsTyped } from './killed-mid-request';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const ADMIN = 'admin-token-0001';
const READ = 'read-token-00001';
const ucx = transports().ucx;

describe.skipIf(!ucx.available)(`ragwire-shard over ucx:// (UCX_TLS=${process.env.UCX_TLS ?? 'default'})`, () => {
  const dir = tempDir('ucx');
  let server: ShardProcess;
  let url: string;
  let client: ShardClient;

  beforeAll(async () => {
    server = await startShardProcess({
      dataDir: dir.path,
      listen: ['ucx://127.0.0.1:0', 'tcp://127.0.0.1:0'],
      admin: true,
      tokens: [ADMIN, `${READ}:read:docs`],
    });
    url = server.addresses[0]!;
    client = new ShardClient(url, { token: ADMIN });
  });

  afterAll(async () => {
    await client?.close();
    if (server) expect(await server.stop()).toBe(0);
    killAll();
    dir.cleanup();
  });

  it('listens on ucx:// and answers with the same auth as tcp://', async () => {
    expect(url).toMatch(/^ucx:\/\/127\.0\.0\.1:\d+$/);
    await client.createCollection({ collection: 'docs', dim: 8, metric: 'l2', kind: 'flat', storage: 'f32' });
    const ids = Array.from({ length: 100 }, (_, i) => `d${i}`);
    const vectors = Float32Array.from({ length: 100 * 8 }, (_, i) => Math.sin(i));
    await client.upsert({ collection: 'docs', dim: 8, ids, vectors, payloads: ids.map((id) => ({ text: id })) });
    const r = await client.query({ collection: 'docs', dim: 8, k: 3, vectors: vectors.subarray(8, 16), options: { withPayload: true } });
    expect(r.ids[0]).toBe('d1');
    // A reader may not write; a wrong token is refused before anything is read.
    const reader = new ShardClient(url, { token: READ });
    await expect(reader.upsert({ collection: 'docs', dim: 8, ids: ['x'], vectors: new Float32Array(8) })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_FORBIDDEN',
    });
    await reader.close();
    const stranger = new ShardClient(url, { token: 'not-a-token-0000' });
    await expect(stranger.query({ collection: 'docs', dim: 8, k: 1, vectors: new Float32Array(8) })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_UNAUTHORIZED',
    });
    await stranger.close();
  });

  it('carries large frames: 1000 x 1536-d vectors in one upsert and one query batch', async () => {
    await client.createCollection({ collection: 'wide', dim: 1536, metric: 'ip', kind: 'flat', storage: 'f32' });
    const n = 1000;
    const vectors = Float32Array.from({ length: n * 1536 }, (_, i) => Math.cos(i * 0.001));
    const ids = Array.from({ length: n }, (_, i) => `w${i}`);
    await client.upsert({ collection: 'wide', dim: 1536, ids, vectors });
    const r = await client.query({ collection: 'wide', dim: 1536, k: 5, vectors });
    expect(r.counts).toHaveLength(n);
    expect(r.ids).toHaveLength(n * 5);
  });

  it('pipelines hundreds of requests on one connection', async () => {
    const q = Float32Array.from({ length: 8 }, (_, i) => Math.sin(8 * 42 + i));
    const replies = await Promise.all(Array.from({ length: 500 }, () => client.query({ collection: 'docs', dim: 8, k: 1, vectors: q })));
    for (const r of replies) expect(r.ids[0]).toBe('d42');
  });

  it('a client that never reads holds bounded memory on the server, and is closed as a slow consumer', async () => {
    const pid = server.child.pid!;
    const before = rssMiB(pid);
    const rss = sampleRss(pid);
    const hostile = await connectNeverReading(url);
    const query: Request = {
      type: 'query',
      collection: 'wide',
      dim: 1536,
      k: 1000,
      vectors: new Float32Array(1536).fill(0.25),
      options: { withPayload: false },
    };
    const frames = Buffer.concat([
      encodeFrame({ type: 'hello', versions: [1], token: READ }, 1),
      ...Array.from({ length: 200 }, (_, i) => encodeFrame({ ...query, collection: 'docs', dim: 8, vectors: new Float32Array(8), k: 100 }, i + 2)),
    ]);
    for (let i = 0; i < 400; i++) hostile.write(frames);
    let closed = 0;
    for (let i = 0; i < 100 && closed === 0; i++) {
      await sleep(100);
      const text = await (await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
      closed = metricValue(text, 'ragwire_shard_connections_closed_total{reason="slow_consumer"}') + metricValue(text, 'ragwire_shard_paused_connections');
    }
    const growth = rss.stop() - before;
    hostile.destroy();
    expect(closed).toBeGreaterThan(0);
    expect(growth).toBeLessThan(256);
    const r = await client.query({ collection: 'docs', dim: 8, k: 1, vectors: new Float32Array(8) });
    expect(r.ids).toHaveLength(1);
  });

  it('a shard killed mid-request is a typed error, not a hang', () => expectKilledMidRequestIsTyped('ucx://127.0.0.1:0', 'ucx-victim'));
});
