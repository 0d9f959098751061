// Filtered queries on the native fast path (docs/architecture.md "The native fast path": native+tcp://
// and ucx://) against the JavaScript path (tcp://) of the same ragwire-shard process and store: the same QUERY frames with
// filters (eq, in, range, exists; must, should, must_not together; selective and broad; nested keys,
// array elements, values too long to compare, 0 and -0, booleans beside numbers), sent over both
// between upserts that replace documents, deletes by id and by filter, and a restart, must come back
// as the same RESULT frames byte for byte, the native plane answering them all (its `answered`
// counter) with the planner's choices (a filter allowing few rows scanned, one whose scan costs less
// than its walk scanned, a broad one walked). Filtered
// queries it leaves to JavaScript (withVectors, hybrid) and bad filters get the same replies (the
// JavaScript path's typed errors), counted as `declined`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { transports } from '@ragwire/native';
import { resolveLimits, type ErrorReply, type Filter, type Request, type ResultReply } from '@ragwire/protocol';
import { FrameConnection, decodedReply } from './frame-connection';
import { metricValue } from './peer-memory';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const ADMIN = 'admin-token-0001';
const DIM = 16;
/** HNSW M 16 at 256 dimensions: between 2 MiB of rows (2048) and the walk's crossover (~3500 of 6000), the planner's cost rule scans. */
const WIDE_DIM = 256;
const COLLECTIONS = [
  { name: 'small', dim: DIM },
  { name: 'flat', dim: DIM },
  { name: 'big', dim: DIM },
  { name: 'wide', dim: WIDE_DIM },
];
const LANGS = ['en', 'en', 'en', 'de', 'fr', 'ja'];

/** Document i's metadata (`shift` changes it for a replacement). */
function metadata(i: number, shift = 0): Record<string, unknown> {
  const j = i + shift;
  return {
    lang: LANGS[j % 6],
    year: 2000 + (j % 25),
    score: (j % 100) / 10,
    draft: j % 3 === 0,
    tags: j % 5 === 0 ? ['a', 'b'] : ['c'],
    author: { name: `w${j % 40}` },
    serial: i,
    zero: j % 13 === 0 ? -0 : 1,
    ...(j % 7 === 0 ? { rare: 'yes' } : {}),
    ...(j % 11 === 0 ? { body: `${'long '.repeat(120)}${j}` } : {}),
  };
}

const FILTERS: Filter[] = [
  { must: [{ key: 'lang', eq: 'en' }] },
  { must: [{ key: 'lang', eq: 'ja' }] },
  { must: [{ key: 'serial', in: [5, 77, 1234, 'x', 30_001] }] },
  { must: [{ key: 'year', range: { gte: 2010, lt: 2015 } }] },
  { must: [{ key: 'score', range: { gt: 9.5 } }] },
  { must: [{ key: 'serial', range: { gte: 100, lte: 180 } }] },
  { must: [{ key: 'rare', exists: true }] },
  { must: [{ key: 'rare', exists: false }] },
  { must: [{ key: 'body', exists: true }] },
  { must: [{ key: 'tags', eq: 'a' }], must_not: [{ key: 'draft', eq: true }] },
  {
    should: [
      { key: 'lang', eq: 'de' },
      { key: 'author.name', eq: 'w3' },
    ],
  },
  { must_not: [{ key: 'lang', in: ['en', 'fr'] }] },
  {
    must: [{ key: 'lang', eq: 'en' }],
    should: [
      { key: 'year', range: { lte: 2003 } },
      { key: 'draft', eq: true },
    ],
    must_not: [{ key: 'tags', eq: 'c' }],
  },
  {},
  { must: [], should: [] },
  { must: [{ key: 'zero', eq: 0 }] },
  { must: [{ key: 'missing', eq: 1 }] },
  { must: [{ key: 'draft', eq: 1 }] },
  {
    must: [
      { key: 'serial', eq: 42 },
      { key: 'lang', eq: 'en' },
    ],
  },
  { must_not: [{ key: 'serial', in: [3, 9, 27] }] },
];

/** The shapes each filter is asked in, in turn. */
const SHAPES: { k: number; n: number; options?: Extract<Request, { type: 'query' }>['options'] }[] = [
  { k: 10, n: 1 },
  { k: 1, n: 3, options: { withPayload: true } },
  { k: 40, n: 1, options: { efSearch: 16 } },
  { k: 5, n: 2, options: { exact: true, withPayload: true } },
];

const PLANES = [
  { listen: 'native+tcp://127.0.0.1:0', transport: 'tcp', run: true },
  // The UCX progress thread answers a served connection's queries (UCX_TLS as the environment sets it).
  { listen: 'ucx://127.0.0.1:0', transport: 'ucx', run: transports().ucx.available },
];

describe.each(PLANES.filter((p) => p.run))('filtered queries over $listen equal the JavaScript path, byte for byte', ({ listen, transport }) => {
  const dir = tempDir('native-filters');
  let server: ShardProcess;
  let writer: ShardClient;
  let viaJs: FrameConnection;
  let viaNative: FrameConnection;

  const loopStat = async (stat: string) => {
    const text = await (await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    return metricValue(text, `ragwire_shard_native_plane{transport="${transport}",stat="${stat}"}`);
  };

  let seed = 7;
  const random = () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const vectors = (n: number, dim = DIM) => Float32Array.from({ length: n * dim }, random);

  async function start(): Promise<void> {
    server = await startShardProcess({ dataDir: dir.path, listen: ['tcp://127.0.0.1:0', listen], admin: true, tokens: [ADMIN] });
    writer = new ShardClient(server.addresses[0]!, { token: ADMIN });
    viaJs = new FrameConnection(server.addresses[0]!);
    viaNative = new FrameConnection(server.addresses[1]!);
    for (const c of [viaJs, viaNative]) expect(decodedReply(await c.ask({ type: 'hello', versions: [1], token: ADMIN })).type).toBe('hello_ok');
  }

  async function stop(): Promise<void> {
    viaJs?.close();
    viaNative?.close();
    await writer?.close();
    if (server) expect(await server.stop()).toBe(0);
  }

  /** Upserts documents `from` .. `to` - 1 (some without a payload, some text only). */
  async function upsert(collection: string, from: number, to: number, shift = 0): Promise<void> {
    const dim = collection === 'wide' ? WIDE_DIM : DIM;
    for (let s = from; s < to; s += 4000) {
      const ids = Array.from({ length: Math.min(4000, to - s) }, (_, i) => `d${s + i}`);
      const payloads = ids.map((_, i) =>
        (s + i) % 17 === 0 ? null : (s + i) % 19 === 0 ? { text: 'no metadata' } : { text: `doc ${s + i}`, metadata: metadata(s + i, shift) },
      );
      await writer.upsert({ collection, dim, ids, vectors: vectors(ids.length, dim), payloads });
    }
  }

  beforeAll(async () => {
    await start();
    // HNSW under the planner's 2 MiB (every search scanned exactly), over it (36k x 16 floats: a
    // broad filter walks, a selective one is scanned), over it at 256 dimensions (the cost rule), and flat.
    await writer.createCollection({ collection: 'small', dim: DIM, metric: 'l2', kind: 'hnsw', storage: 'f32', params: { M: 8, efConstruction: 40 } });
    await writer.createCollection({ collection: 'big', dim: DIM, metric: 'ip', kind: 'hnsw', storage: 'f32', params: { M: 8, efConstruction: 40 } });
    await writer.createCollection({ collection: 'wide', dim: WIDE_DIM, metric: 'l2', kind: 'hnsw', storage: 'f32', params: { M: 16, efConstruction: 32 } });
    await writer.createCollection({ collection: 'flat', dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
    await upsert('small', 0, 3000);
    await upsert('flat', 0, 3000);
    await upsert('big', 0, 36_000);
    await upsert('wide', 0, 6000);
  });

  afterAll(async () => {
    await stop();
    killAll();
    dir.cleanup();
  });

  async function same(request: Request, how?: Parameters<FrameConnection['ask']>[1]): Promise<ReturnType<typeof decodedReply>> {
    const [js, nat] = await Promise.all([viaJs.ask(request, how), viaNative.ask(request, how)]);
    expect(nat.toString('hex')).toBe(js.toString('hex'));
    return decodedReply(nat);
  }

  /** Every filter over every collection, each in the next shape; returns how many were asked. */
  async function askAll(round: number): Promise<number> {
    let asked = 0;
    for (const { name: collection, dim } of COLLECTIONS) {
      for (const [f, filter] of FILTERS.entries()) {
        const { k, n, options } = SHAPES[(f + round) % SHAPES.length]!;
        await same({ type: 'query', collection, dim, k, vectors: vectors(n, dim), filter, ...(options ? { options } : {}) });
        asked++;
      }
    }
    return asked;
  }

  it('across upserts, replacements, deletes by id and by filter, with payloads, efSearch and exact', async () => {
    const answeredBefore = await loopStat('answered');
    const declinedBefore = await loopStat('declined');
    let asked = await askAll(0);
    for (let round = 1; round <= 3; round++) {
      // Replaced documents change their metadata; new ones arrive; some go by id, some by filter.
      for (const { name: collection } of COLLECTIONS) {
        await upsert(collection, round * 500, round * 500 + 400, round);
        await upsert(collection, 40_000 + round * 100, 40_000 + round * 100 + 100);
        await writer.delete({ collection, ids: Array.from({ length: 50 }, (_, i) => `d${round * 37 + i * 7}`) });
        await writer.delete({
          collection,
          filter: {
            must: [
              { key: 'year', eq: 2000 + round },
              { key: 'lang', eq: 'fr' },
            ],
          },
        });
      }
      asked += await askAll(round);
    }
    // The planner's choices, made natively as JavaScript makes them: a filter allowing under 2 MiB
    // of rows is scanned exactly, a broad one walked; at 256 dimensions a filter allowing half the
    // rows is over 2 MiB but cheaper to scan than to walk; the small collection is always scanned.
    const ask = (collection: string, filter: Filter, dim = DIM) =>
      same({ type: 'query', collection, dim, k: 10, vectors: vectors(1, dim), filter }) as Promise<ResultReply>;
    const plans: [string, Filter, number, boolean][] = [
      ['big', { must: [{ key: 'serial', range: { gte: 100, lte: 180 } }] }, DIM, true],
      ['big', { must: [{ key: 'lang', eq: 'en' }] }, DIM, true],
      ['big', { must_not: [{ key: 'serial', in: [3, 9, 27] }] }, DIM, false],
      ['wide', { must: [{ key: 'lang', eq: 'ja' }] }, WIDE_DIM, true],
      ['wide', { must: [{ key: 'lang', eq: 'en' }] }, WIDE_DIM, true],
      ['wide', { must_not: [{ key: 'lang', eq: 'ja' }] }, WIDE_DIM, false],
    ];
    for (const [collection, filter, dim, exact] of plans) expect((await ask(collection, filter, dim)).exact).toBe(exact);
    const few = await ask('small', { must: [{ key: 'serial', in: [1, 2, 4] }] });
    expect(few.exact).toBe(true);
    expect([...few.ids].sort()).toEqual(['d1', 'd2', 'd4']);
    // Documents deleted by filter are gone from its answer.
    const gone = await ask('small', {
      must: [
        { key: 'year', eq: 2003 },
        { key: 'lang', eq: 'fr' },
      ],
    });
    expect([...gone.counts]).toEqual([0]);
    asked += plans.length + 2;
    expect((await loopStat('answered')) - answeredBefore).toBe(asked);
    expect(await loopStat('declined')).toBe(declinedBefore);
  });

  it('leaves filtered withVectors and hybrid queries and bad filters to JavaScript: the same replies, its typed errors', async () => {
    const answeredBefore = await loopStat('answered');
    const declinedBefore = await loopStat('declined');
    const filter: Filter = {
      must: [
        { key: 'lang', eq: 'en' },
        { key: 'year', range: { gte: 2010 } },
      ],
    };
    const query = (extra: Partial<Extract<Request, { type: 'query' }>> = {}): Request => ({
      type: 'query',
      collection: 'small',
      dim: DIM,
      k: 5,
      vectors: vectors(1),
      filter,
      ...extra,
    });
    let left = 0;
    expect((await same(query({ options: { withVectors: true } }))).type).toBe('result');
    await same(query({ text: ['doc 12'] }));
    left += 2;
    // Bad filters: an operator, a bound and a clause no filter has (the frame's bytes edited after
    // encoding), and more conditions than the server allows.
    // A msgpack string `from` (a fixstr: its length byte, then its bytes) becomes `to`, as long.
    const edit = (from: string, to: string) => (frame: Buffer) => {
      const at = frame.indexOf(Buffer.concat([Buffer.from([0xa0 | from.length]), Buffer.from(from)]));
      expect(at).toBeGreaterThan(0);
      frame.write(to, at + 1);
    };
    const bad: [Request, Parameters<FrameConnection['ask']>[1], string][] = [
      [query(), { edit: edit('eq', 'ex') }, 'RAGWIRE_ERR_INVALID_FILTER'],
      [query(), { edit: edit('gte', 'gtx') }, 'RAGWIRE_ERR_INVALID_FILTER'],
      [query(), { edit: edit('must', 'mush') }, 'RAGWIRE_ERR_INVALID_FILTER'],
      [
        query({ filter: { must: Array.from({ length: 1025 }, (_, i) => ({ key: 'serial', eq: i })) } }),
        { limits: resolveLimits({ maxFilterConditions: 2048 }) },
        'RAGWIRE_ERR_LIMIT',
      ],
    ];
    for (const [q, how, code] of bad) {
      const reply = (await same(q, how)) as ErrorReply;
      expect(reply.type).toBe('error');
      expect(reply.code).toBe(code);
      left++;
    }
    expect(await loopStat('answered')).toBe(answeredBefore);
    expect((await loopStat('declined')) - declinedBefore).toBe(left);
  });

  it('after a restart, from the filter index rebuilt from LMDB', async () => {
    const asks = COLLECTIONS.flatMap(({ name: collection, dim }) =>
      FILTERS.map((filter): Request => ({ type: 'query', collection, dim, k: 8, vectors: vectors(1, dim), filter, options: { withPayload: true } })),
    );
    const before: Buffer[] = [];
    for (const q of asks) before.push(await viaNative.ask(q));
    await stop();
    await start();
    const answeredBefore = await loopStat('answered');
    for (const [i, q] of asks.entries()) {
      // The same documents, scores and payloads as before the restart (request ids differ).
      expect(await same(q)).toEqual(decodedReply(before[i]!));
    }
    expect((await loopStat('answered')) - answeredBefore).toBe(asks.length);
  });
});
