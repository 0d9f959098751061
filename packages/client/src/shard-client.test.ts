import { afterEach, describe, expect, it, vi } from 'vitest';
import { DimensionMismatchError, ShardTimeoutError, ShardUnavailableError, UnknownCollectionError, type QueryRequest } from '@ragwire/protocol';
import { ShardClient } from './shard-client';
import { fakeShard, fakeTransports, resultOf } from './testing-fake-transport';

const q = (x: number): Omit<QueryRequest, 'type'> => ({ collection: 'docs', dim: 2, k: 1, vectors: Float32Array.of(x, x) });

afterEach(() => vi.useRealTimers());

describe('ShardClient over a fake transport', () => {
  it('pipelines requests on one connection and matches out-of-order replies by id', async () => {
    const shard = fakeShard();
    const client = new ShardClient('tcp://a:1', { transport: fakeTransports({ 'tcp://a:1': shard }) });
    const replies = [1, 2, 3, 4, 5].map((x) => client.query(q(x)));
    await vi.waitFor(() => expect(shard.transports[0]!.sent.filter((s) => s.request.type === 'query')).toHaveLength(5));
    const t = shard.transports[0]!;
    expect(shard.transports).toHaveLength(1);
    const queries = t.sent.filter((s) => s.request.type === 'query');
    // Answer in reverse order; each reply names the vector it answers.
    for (const s of [...queries].reverse()) t.reply(s.id, resultOf([[`v${(s.request as QueryRequest).vectors[0]}`, 1]]));
    const got = await Promise.all(replies);
    expect(got.map((r) => r.ids[0])).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    expect(new Set(queries.map((s) => s.id)).size).toBe(5);
    expect(client.inFlight).toBe(0);
    await client.close();
  });

  it('rejects with the typed error of an ERROR reply', async () => {
    const shard = fakeShard((r) => ({
      type: 'error',
      code: r.type === 'query' ? 'RAGWIRE_ERR_DIM_MISMATCH' : 'RAGWIRE_ERR_UNKNOWN_COLLECTION',
      message: 'nope',
    }));
    const client = new ShardClient('tcp://a:1', { transport: fakeTransports({ 'tcp://a:1': shard }) });
    await expect(client.query(q(1))).rejects.toBeInstanceOf(DimensionMismatchError);
    await expect(client.request({ type: 'describe', collection: 'x' })).rejects.toBeInstanceOf(UnknownCollectionError);
    await client.close();
  });

  it('times a request out, and ignores its late reply', async () => {
    const shard = fakeShard();
    const client = new ShardClient('tcp://a:1', { transport: fakeTransports({ 'tcp://a:1': shard }), timeoutMs: 30 });
    const err = await client.query(q(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShardTimeoutError);
    const t = shard.transports[0]!;
    const late = t.sent.find((s) => s.request.type === 'query')!;
    t.reply(late.id, resultOf([['late', 1]])); // dropped without effect
    expect(client.inFlight).toBe(0);
    await client.close();
  });

  it('fails pending requests when the connection drops, backs off, then reconnects', async () => {
    const shard = fakeShard();
    const client = new ShardClient('tcp://a:1', { transport: fakeTransports({ 'tcp://a:1': shard }), backoff: { initialMs: 40, maxMs: 40 } });
    const pending = client.query(q(1));
    await vi.waitFor(() => expect(shard.transports[0]?.sent.some((s) => s.request.type === 'query')).toBe(true));
    shard.down = true;
    shard.transports[0]!.drop();
    await expect(pending).rejects.toBeInstanceOf(ShardUnavailableError);
    // Within the backoff window: fail fast, no new connection attempt.
    expect(client.available).toBe(false);
    await expect(client.query(q(2))).rejects.toBeInstanceOf(ShardUnavailableError);
    expect(shard.transports).toHaveLength(1);
    // After it: the shard is back and the next request reconnects.
    shard.down = false;
    shard.answer = () => resultOf([['ok', 1]]);
    await new Promise((r) => setTimeout(r, 60));
    expect(client.available).toBe(true);
    expect((await client.query(q(3))).ids).toEqual(['ok']);
    expect(shard.transports).toHaveLength(2);
    await client.close();
  });

  it('spreads requests over its pool by least in flight', async () => {
    const shard = fakeShard(() => ({ type: 'describe_ok', collections: [] }));
    const client = new ShardClient('tcp://a:1', { transport: fakeTransports({ 'tcp://a:1': shard }), connections: 3 });
    await client.request({ type: 'describe' }); // opens the first connection
    shard.answer = () => undefined;
    void client.query(q(0)).catch(() => undefined); // fills the pool in the background
    await vi.waitFor(() => expect(shard.transports).toHaveLength(3));
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 1; i < 9; i++) void client.query(q(i)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 5));
    expect(shard.transports.map((t) => t.sent.filter((s) => s.request.type === 'query').length)).toEqual([3, 3, 3]);
    await client.close();
  });

  it('splits an upsert larger than the server allows into several frames', async () => {
    const shard = fakeShard((r) => (r.type === 'upsert' ? { type: 'upsert_ok', upserted: r.ids.length, seq: r.ids.length } : undefined));
    const client = new ShardClient('tcp://a:1', { transport: fakeTransports({ 'tcp://a:1': shard }) });
    client.serverLimits = { ...client.serverLimits, maxWriteBatch: 100 };
    const n = 1050;
    const r = await client.upsert({ collection: 'docs', dim: 2, ids: Array.from({ length: n }, (_, i) => `d${i}`), vectors: new Float32Array(2 * n) });
    expect(r.upserted).toBe(n);
    const frames = shard.transports[0]!.sent.filter((s) => s.request.type === 'upsert');
    expect(frames).toHaveLength(11);
    await client.close();
  });
});
