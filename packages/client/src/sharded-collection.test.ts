import { describe, expect, it, vi } from 'vitest';
import { ShardUnavailableError, type QueryRequest, type Request, type Response } from '@ragwire/protocol';
import { shardOf } from './jump-hash';
import { ShardedCollection, type QueryTiming } from './sharded-collection';
import { fakeShard, fakeTransports, resultOf, type FakeShard } from './testing-fake-transport';

const vec = Float32Array.of(1, 0);

function sent(shard: FakeShard, type: Request['type']): Request[] {
  return shard.transports.flatMap((t) => t.sent.filter((s) => s.request.type === type).map((s) => s.request));
}

describe('ShardedCollection over fake transports', () => {
  it('routes each upserted id to every replica of its shard only', async () => {
    const ok = (r: Request): Response | undefined => (r.type === 'upsert' ? { type: 'upsert_ok', upserted: r.ids.length, seq: 1 } : undefined);
    const shards = { a1: fakeShard(ok), a2: fakeShard(ok), b1: fakeShard(ok), c1: fakeShard(ok) };
    const col = new ShardedCollection({ shards: [['a1', 'a2'], ['b1'], ['c1']], collection: 'docs', dim: 2, client: { transport: fakeTransports(shards) } });
    const ids = Array.from({ length: 300 }, (_, i) => `id-${i}`);
    const vectors = new Float32Array(600).map((_, i) => Math.floor(i / 2));
    await col.upsert({ ids, vectors });
    const [a1, a2, b1, c1] = [shards.a1, shards.a2, shards.b1, shards.c1].map((s) => sent(s, 'upsert').flatMap((r) => (r as { ids: string[] }).ids));
    expect(a1).toEqual(a2);
    expect([...a1!, ...b1!, ...c1!].sort()).toEqual([...ids].sort());
    for (const [shard, list] of [a1!, b1!, c1!].entries()) for (const id of list) expect(shardOf(id, 3)).toBe(shard);
    // Vectors travel with their ids.
    const up = sent(shards.b1, 'upsert')[0] as { ids: string[]; vectors: Float32Array };
    up.ids.forEach((id, i) => expect(up.vectors[2 * i]).toBe(Number(id.slice(3))));
    await col.close();
  });

  it('merges every shard into the global top-k', async () => {
    const shards = {
      a: fakeShard(() =>
        resultOf([
          ['a1', 0.9],
          ['a2', 0.2],
        ]),
      ),
      b: fakeShard(() =>
        resultOf([
          ['b1', 0.95],
          ['b2', 0.5],
        ]),
      ),
    };
    const col = new ShardedCollection({ shards: [['a'], ['b']], collection: 'docs', dim: 2, client: { transport: fakeTransports(shards) } });
    const r = await col.query({ vectors: vec, k: 3 });
    expect(r.ids).toEqual(['b1', 'a1', 'b2']);
    expect(r.partial).toBe(false);
    await col.close();
  });

  it('hedges a slow replica and takes the first answer', async () => {
    const shards = { slow: fakeShard(() => undefined), fast: fakeShard(() => resultOf([['f', 1]])) };
    const col = new ShardedCollection({
      shards: [['slow', 'fast']],
      collection: 'docs',
      dim: 2,
      hedgeAfterMs: 20,
      timeoutMs: 2000,
      client: { transport: fakeTransports(shards) },
    });
    const t0 = Date.now();
    const r = await col.query({ vectors: vec, k: 1 });
    expect(r.ids).toEqual(['f']);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(sent(shards.slow, 'query')).toHaveLength(1);
    await col.close();
  });

  it('skips a dead replica at once', async () => {
    const shards = { dead: fakeShard(), live: fakeShard(() => resultOf([['l', 1]])) };
    shards.dead.down = true;
    const col = new ShardedCollection({ shards: [['dead', 'live']], collection: 'docs', dim: 2, client: { transport: fakeTransports(shards) } });
    expect((await col.query({ vectors: vec, k: 1 })).ids).toEqual(['l']);
    await col.close();
  });

  it("answers partial results naming the missing shard with 'allow', rejects with 'fail'", async () => {
    const make = (partial: 'allow' | 'fail') => {
      const shards = { a: fakeShard(() => resultOf([['a', 1]])), b: fakeShard() };
      shards.b.down = true;
      return new ShardedCollection({ shards: [['a'], ['b']], collection: 'docs', dim: 2, partial, client: { transport: fakeTransports(shards) } });
    };
    const allow = make('allow');
    const r = await allow.query({ vectors: vec, k: 5 });
    expect(r).toMatchObject({ partial: true, missingShards: [1], ids: ['a'] });
    const fail = make('fail');
    await expect(fail.query({ vectors: vec, k: 5 })).rejects.toBeInstanceOf(ShardUnavailableError);
    await Promise.all([allow.close(), fail.close()]);
  });

  it('reports per-shard and merge time to onQuery, NaN for a shard that did not answer', async () => {
    const shards = { a: fakeShard(() => resultOf([['a', 1]])), b: fakeShard() };
    shards.b.down = true;
    const timings: QueryTiming[] = [];
    const col = new ShardedCollection({
      shards: [['a'], ['b']],
      collection: 'docs',
      dim: 2,
      partial: 'allow',
      onQuery: (t) => timings.push(t),
      client: { transport: fakeTransports(shards) },
    });
    await col.query({ vectors: Float32Array.of(1, 0, 0, 1), k: 1 });
    expect(timings).toHaveLength(1);
    const [t] = timings;
    expect(t!.n).toBe(2);
    expect(t!.shardMs[0]).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(t!.shardMs[1])).toBe(true);
    expect(t!.mergeMs).toBeGreaterThanOrEqual(0);
    expect(t!.totalMs).toBeGreaterThanOrEqual(t!.shardMs[0]!);
    await col.close();
  });

  it('never waits past its timeout when no replica answers', async () => {
    const shards = { a: fakeShard(), b: fakeShard() };
    const col = new ShardedCollection({
      shards: [['a', 'b']],
      collection: 'docs',
      dim: 2,
      hedgeAfterMs: 10,
      timeoutMs: 80,
      client: { transport: fakeTransports(shards) },
    });
    const t0 = Date.now();
    await expect(col.query({ vectors: vec, k: 1 })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_SHARD_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(500);
    await col.close();
  });

  it('serves repeated queries from the cache until a write', async () => {
    let calls = 0;
    const shard = fakeShard((r) => {
      if (r.type === 'upsert') return { type: 'upsert_ok', upserted: r.ids.length, seq: 1 };
      calls++;
      return resultOf([[`v${calls}`, 1]]);
    });
    const col = new ShardedCollection({ shards: [['a']], collection: 'docs', dim: 2, cache: true, client: { transport: fakeTransports({ a: shard }) } });
    expect((await col.query({ vectors: vec, k: 1 })).ids).toEqual(['v1']);
    expect((await col.query({ vectors: Float32Array.of(1, 0), k: 1 })).ids).toEqual(['v1']);
    expect((await col.query({ vectors: vec, k: 2 })).ids).toEqual(['v2']);
    await col.upsert({ ids: ['x'], vectors: vec });
    expect((await col.query({ vectors: vec, k: 1 })).ids).toEqual(['v3']);
    expect(col.cacheStats).toMatchObject({ hits: 1 });
    await col.close();
  });

  it('learns the dimension from DESCRIBE when not given', async () => {
    const shard = fakeShard((r) =>
      r.type === 'describe'
        ? { type: 'describe_ok', collections: [{ name: 'docs', dim: 2, metric: 'l2', kind: 'flat', storage: 'f32', count: 3 }] }
        : resultOf([['x', (r as QueryRequest).dim]]),
    );
    const col = new ShardedCollection({ shards: [['a']], collection: 'docs', client: { transport: fakeTransports({ a: shard }) } });
    const r = await col.query({ vectors: vec, k: 1 });
    expect([...r.scores]).toEqual([2]);
    await expect(col.query({ vectors: Float32Array.of(1, 2, 3), k: 1 })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' });
    await col.close();
    vi.restoreAllMocks();
  });
});

describe('ShardedCollection query tracing (docs/protocol.md §5.12)', () => {
  it('asks the tracer for one span per shard, sends its traceparent only where the extension is on, and ends each span', async () => {
    const parent = (i: number) => `00-4bf92f3577b34da6a3ce929d0e0e4736-${String(i).padStart(16, 'a')}-01`;
    const answer =
      (names: 'trace'[], fail = false) =>
      (r: Request): Response | undefined =>
        r.type === 'extensions'
          ? { type: 'extensions_ok', names }
          : r.type === 'query'
            ? fail
              ? { type: 'error', code: 'RAGWIRE_ERR_SHARD_UNAVAILABLE', message: 'down' }
              : resultOf([[`${names.length}`, 0.5]])
            : undefined;
    const shards = { on: fakeShard(answer(['trace'])), off: fakeShard(answer([])), down: fakeShard(answer(['trace'], true)) };
    const col = new ShardedCollection({
      shards: [['on'], ['off'], ['down']],
      collection: 'docs',
      dim: 2,
      partial: 'allow',
      client: { transport: fakeTransports(shards), extensions: ['trace'] },
    });
    const ended: [number, string | undefined][] = [];
    const r = await col.query({ vectors: vec, k: 2, trace: { shard: (i) => ({ traceparent: parent(i), end: (error) => ended.push([i, error?.message]) }) } });
    expect(r.missingShards).toEqual([2]);
    expect((sent(shards.on, 'query')[0] as QueryRequest).trace).toBe(parent(0));
    expect(sent(shards.off, 'query')[0]).not.toHaveProperty('trace');
    expect(ended.map(([i, e]) => [i, e === undefined])).toEqual(
      expect.arrayContaining([
        [0, true],
        [1, true],
        [2, false],
      ]),
    );
    expect(ended).toHaveLength(3);
    await col.close();
  });
});
