// Issue 3 §5: malformed and oversize frames, wrong dimension, unknown collection, missing or wrong
// token: each gets its ERROR code, and the server keeps serving other connections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { encodeFrame, type ErrorReply } from '@ragwire/protocol';
import { TCP_SCHEMES, killAll, startShardProcess, tempDir, type ShardProcess } from './processes';
import { RawConnection, rawFrame } from './raw-connection';

const ADMIN = 'admin-token-0001';
const READ = 'read-token-00001';
const DIM = 8;
const hello = (token?: string) => ({ type: 'hello' as const, versions: [1], ...(token ? { token } : {}) });
const query = (dim = DIM, collection = 'docs') => ({ type: 'query' as const, collection, dim, k: 3, vectors: new Float32Array(dim).fill(0.5) });

describe.each(TCP_SCHEMES)('a shard server refusing bad input over %s://', (scheme) => {
  const dir = tempDir('bad-input');
  let server: ShardProcess;
  let url: string;
  let witness: ShardClient;

  /** A connection from another client that must keep working throughout. */
  async function witnessStillServed(): Promise<void> {
    const r = await witness.query({ collection: 'docs', dim: DIM, k: 2, vectors: new Float32Array(DIM).fill(1) });
    expect(r.ids).toHaveLength(2);
  }

  async function authed(token = ADMIN): Promise<RawConnection> {
    const c = await RawConnection.open(url);
    c.send(hello(token), 1);
    expect((await c.reply(1)).type).toBe('hello_ok');
    return c;
  }

  async function errorCode(c: RawConnection, requestId: number): Promise<string> {
    const r = await c.reply(requestId);
    expect(r.type).toBe('error');
    return (r as ErrorReply).code;
  }

  beforeAll(async () => {
    server = await startShardProcess({ dataDir: dir.path, listen: [`${scheme}://127.0.0.1:0`], admin: true, tokens: [ADMIN, `${READ}:read:docs`] });
    url = server.addresses[0]!;
    witness = new ShardClient(url, { token: ADMIN });
    await witness.createCollection({ collection: 'docs', dim: DIM, metric: 'l2', kind: 'flat', storage: 'f32' });
    await witness.createCollection({ collection: 'secret', dim: DIM, metric: 'l2', kind: 'flat', storage: 'f32' });
    await witness.upsert({ collection: 'docs', dim: DIM, ids: ['a', 'b', 'c'], vectors: new Float32Array(3 * DIM).map((_, i) => i % 5) });
  });

  afterAll(async () => {
    await witness?.close();
    if (server) expect(await server.stop()).toBe(0);
    killAll();
    dir.cleanup();
  });

  it('refuses requests before HELLO, and unknown tokens', async () => {
    const c = await RawConnection.open(url);
    c.send(query(), 5);
    expect(await errorCode(c, 5)).toBe('RAGWIRE_ERR_UNAUTHORIZED');
    c.send(hello('not-a-token-at-all'), 6);
    expect(await errorCode(c, 6)).toBe('RAGWIRE_ERR_UNAUTHORIZED');
    c.send(hello(), 7);
    expect(await errorCode(c, 7)).toBe('RAGWIRE_ERR_UNAUTHORIZED');
    c.send(query(), 8);
    expect(await errorCode(c, 8)).toBe('RAGWIRE_ERR_UNAUTHORIZED');
    c.close();
    // Through the client: the typed error.
    const bad = new ShardClient(url, { token: 'wrong-token-0000' });
    await expect(bad.request({ type: 'describe' })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_UNAUTHORIZED', name: 'UnauthorizedError' });
    await bad.close();
    await witnessStillServed();
  });

  it('refuses what a token has no scope for', async () => {
    const c = await authed(READ);
    c.send(query(), 2);
    expect((await c.reply(2)).type).toBe('result');
    c.send({ type: 'upsert', collection: 'docs', dim: DIM, ids: ['x'], vectors: new Float32Array(DIM) }, 3);
    expect(await errorCode(c, 3)).toBe('RAGWIRE_ERR_FORBIDDEN');
    c.send(query(DIM, 'secret'), 4);
    expect(await errorCode(c, 4)).toBe('RAGWIRE_ERR_FORBIDDEN');
    c.send({ type: 'drop', collection: 'docs' }, 5);
    expect(await errorCode(c, 5)).toBe('RAGWIRE_ERR_FORBIDDEN');
    c.send({ type: 'describe' }, 6);
    const d = await c.reply(6);
    expect(d.type === 'describe_ok' && d.collections.map((i) => i.name)).toEqual(['docs']);
    c.close();
  });

  it('answers wrong dimension and unknown collection, and goes on serving the connection', async () => {
    const c = await authed();
    c.send(query(DIM + 1), 2);
    c.send(query(DIM, 'nope'), 3);
    c.send({ type: 'upsert', collection: 'docs', dim: 3, ids: ['x'], vectors: new Float32Array(3) }, 4);
    c.send(query(), 5);
    expect(await errorCode(c, 2)).toBe('RAGWIRE_ERR_DIM_MISMATCH');
    expect(await errorCode(c, 3)).toBe('RAGWIRE_ERR_UNKNOWN_COLLECTION');
    expect(await errorCode(c, 4)).toBe('RAGWIRE_ERR_DIM_MISMATCH');
    expect((await c.reply(5)).type).toBe('result');
    c.close();
  });

  it('answers malformed frames with their code and keeps the connection when the stream can go on', async () => {
    const c = await authed();
    const badMeta = new Uint8Array([4, 0, 0, 0, 0xc1, 0, 0, 0]); // meta_length 4, a reserved msgpack byte
    c.sendBytes(rawFrame({ type: 0x20, requestId: 10 }, badMeta));
    c.sendBytes(rawFrame({ type: 0x55, requestId: 11 }, new Uint8Array(4)));
    c.sendBytes(rawFrame({ type: 0x20, version: 9, requestId: 12 }, new Uint8Array(4)));
    c.sendBytes(rawFrame({ type: 0x20, flags: 0x8000, requestId: 13 }, new Uint8Array(4)));
    c.sendBytes(
      rawFrame(
        { type: 0x21, flags: 1, requestId: 14 },
        encodeFrame({ type: 'result', k: 1, counts: Uint32Array.of(0), ids: [], scores: new Float32Array(0) }, 14).subarray(12),
      ),
    );
    const valid = encodeFrame(query(), 15);
    c.sendBytes(valid);
    expect(await errorCode(c, 10)).toBe('RAGWIRE_ERR_BAD_FRAME');
    expect(await errorCode(c, 11)).toBe('RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE');
    expect(await errorCode(c, 12)).toBe('RAGWIRE_ERR_UNSUPPORTED_VERSION');
    expect(await errorCode(c, 13)).toBe('RAGWIRE_ERR_BAD_FRAME');
    expect(await errorCode(c, 14)).toBe('RAGWIRE_ERR_BAD_FRAME');
    expect((await c.reply(15)).type).toBe('result');
    c.close();
    await witnessStillServed();
  });

  it('refuses an oversize frame on its length prefix alone and closes that connection', async () => {
    const c = await authed();
    c.sendBytes(rawFrame({ type: 0x10, length: 512 * 1024 * 1024, requestId: 20 }, new Uint8Array(4)));
    expect(await errorCode(c, 20)).toBe('RAGWIRE_ERR_FRAME_TOO_LARGE');
    expect(await c.closedByServer()).toBe(true);
    // A length prefix below 8 leaves no frame boundary: fatal too.
    const d = await authed();
    d.sendBytes(rawFrame({ type: 0x20, length: 3, requestId: 21 }, new Uint8Array(0)));
    expect(await errorCode(d, 21)).toBe('RAGWIRE_ERR_BAD_FRAME');
    expect(await d.closedByServer()).toBe(true);
    await witnessStillServed();
  });

  it('survives thousands of mutated frames and keeps serving', async () => {
    let seed = 12345;
    const rand = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const templates = [
      encodeFrame(query(), 1),
      encodeFrame(
        {
          type: 'upsert',
          collection: 'docs',
          dim: DIM,
          ids: ['m1', 'm2'],
          vectors: new Float32Array(2 * DIM),
          payloads: [{ text: 't', metadata: { a: 1 } }, null],
        },
        2,
      ),
      encodeFrame({ type: 'delete', collection: 'docs', filter: { must: [{ key: 'a', range: { gte: 1 } }] } }, 3),
    ];
    for (let conn = 0; conn < 20; conn++) {
      const c = await authed();
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < 100; i++) {
        const frame = new Uint8Array(templates[rand(templates.length)]!);
        for (let m = 0, flips = 1 + rand(4); m < flips; m++) frame[4 + rand(frame.length - 4)] = rand(256);
        chunks.push(frame);
      }
      c.sendBytes(Buffer.concat(chunks));
      c.socket.end();
      await c.closedByServer(2000);
      c.close();
    }
    await witnessStillServed();
    const metrics = await (await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(metrics).toMatch(/ragwire_shard_frame_errors_total\{code="RAGWIRE_ERR_BAD_FRAME"\} \d+/);
    // No input may reach a bug: INTERNAL never answered.
    expect(metrics).not.toContain('RAGWIRE_ERR_INTERNAL');
  });
});
