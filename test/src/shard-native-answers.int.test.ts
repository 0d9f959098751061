// The native data plane's answers (native+tcp:// and ucx://, docs/architecture.md "Data plane")
// against the JavaScript path's (tcp://) of the same ragwire-shard process and store: the same QUERY frames,
// sent over both between writes, upserts that replace documents and deletes, must come back as the
// same RESULT frames byte for byte (ids, scores, payloads, `exact`); an acknowledged write is seen by
// the next native answer, a deleted document never again. Queries the native plane leaves to
// JavaScript (withVectors, wrong dims, unknown collections) still come back right, and the plane's counters say which path answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { transports } from '@ragwire/native';
import type { Request, ResultReply } from '@ragwire/protocol';
import { FrameConnection, decodedReply } from './frame-connection';
import { metricValue } from './peer-memory';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const ADMIN = 'admin-token-0001';
const DIM = 16;

function decoded(frame: Buffer): ResultReply {
  return decodedReply(frame) as ResultReply;
}

const PLANES = [
  // Two loop threads: a first connection takes the first loop, so the compared one is the second's.
  { listen: 'native+tcp://127.0.0.1:0', transport: 'tcp', extra: ['--native-loops', '2'], run: true },
  // The UCX progress thread answers a served connection's queries (UCX_TLS as the environment sets it).
  { listen: 'ucx://127.0.0.1:0', transport: 'ucx', extra: [], run: transports().ucx.available },
];

describe.each(PLANES.filter((p) => p.run))('native answers over $listen equal the JavaScript path, byte for byte', ({ listen, transport, extra }) => {
  const dir = tempDir('native-answers');
  let server: ShardProcess;
  let writer: ShardClient;
  let viaJs: FrameConnection;
  let viaNative: FrameConnection;
  let first: FrameConnection;

  const metrics = async () => (await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
  const loopStat = async (stat: string) => metricValue(await metrics(), `ragwire_shard_native_plane{transport="${transport}",stat="${stat}"}`);
  /** The server's query count and latency histogram, native answers included. */
  const queryMeters = async () => {
    const text = await metrics();
    return {
      ok: metricValue(text, 'ragwire_shard_requests_total{type="query",code="ok"}'),
      timed: metricValue(text, 'ragwire_shard_request_duration_seconds_count{type="query"}'),
      all: metricValue(text, 'ragwire_shard_request_duration_seconds_bucket{le="+Inf",type="query"}'),
      withinTenSeconds: metricValue(text, 'ragwire_shard_request_duration_seconds_bucket{le="10",type="query"}'),
      seconds: metricValue(text, 'ragwire_shard_request_duration_seconds_sum{type="query"}'),
    };
  };

  let seed = 1;
  const random = () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const vectors = (n: number) => Float32Array.from({ length: n * DIM }, random);

  async function start(): Promise<void> {
    server = await startShardProcess({ dataDir: dir.path, listen: ['tcp://127.0.0.1:0', listen], admin: true, tokens: [ADMIN], extra });
    writer = new ShardClient(server.addresses[0]!, { token: ADMIN });
    viaJs = new FrameConnection(server.addresses[0]!);
    first = new FrameConnection(server.addresses[1]!);
    viaNative = new FrameConnection(server.addresses[1]!);
    for (const c of [viaJs, first, viaNative]) expect(decoded(await c.ask({ type: 'hello', versions: [1], token: ADMIN })).type).toBe('hello_ok');
  }

  async function stop(): Promise<void> {
    viaJs?.close();
    first?.close();
    viaNative?.close();
    await writer?.close();
    if (server) expect(await server.stop()).toBe(0);
  }

  beforeAll(async () => {
    await start();
    // HNSW small enough to be scanned exactly by the planner (walk) and above its 2 MiB threshold
    // (big: 40k x 16 floats, walked), and flat.
    await writer.createCollection({ collection: 'walk', dim: DIM, metric: 'l2', kind: 'hnsw', storage: 'f32', params: { M: 8, efConstruction: 40 } });
    await writer.createCollection({ collection: 'big', dim: DIM, metric: 'ip', kind: 'hnsw', storage: 'f32', params: { M: 8, efConstruction: 40 } });
    for (let s = 0; s < 40_000; s += 5000) {
      await writer.upsert({ collection: 'big', dim: DIM, ids: Array.from({ length: 5000 }, (_, i) => `b${s + i}`), vectors: vectors(5000) });
    }
    await writer.createCollection({ collection: 'flat', dim: DIM, metric: 'cosine', kind: 'flat', storage: 'f32' });
  });

  afterAll(async () => {
    await stop();
    killAll();
    dir.cleanup();
  });

  async function same(request: Request): Promise<ResultReply> {
    const [js, nat] = await Promise.all([viaJs.ask(request), viaNative.ask(request)]);
    expect(nat.toString('hex')).toBe(js.toString('hex'));
    return decoded(nat);
  }

  const queries = (collection: string, options?: Extract<Request, { type: 'query' }>['options']): Request[] =>
    [1, 3].flatMap((n) => [1, 5, 40].map((k): Request => ({ type: 'query', collection, dim: DIM, k, vectors: vectors(n), ...(options ? { options } : {}) })));

  it('across upserts, replacements and deletes, with payloads, efSearch and exact', async () => {
    const answeredBefore = await loopStat('answered');
    const metersBefore = await queryMeters();
    let asked = 0;
    const live = new Map<string, Float32Array>();
    for (let round = 0; round < 12; round++) {
      // Writes through the JavaScript path, acknowledged before any query of the round.
      const ids = Array.from({ length: 400 }, (_, i) => `r${round}-${i}`);
      if (round % 3 === 2) ids.splice(0, 50, ...[...live.keys()].slice(0, 50)); // replace some
      const v = vectors(ids.length);
      const payloads = ids.map((id, i) => (i % 4 === 0 ? null : { text: `doc ${id}`, metadata: { round, i, tag: i % 2 ? 'odd' : 'even' } }));
      for (const collection of ['walk', 'flat', 'big']) await writer.upsert({ collection, dim: DIM, ids, vectors: v, payloads });
      ids.forEach((id, i) => live.set(id, v.slice(i * DIM, (i + 1) * DIM)));
      if (round % 2 === 1) {
        const gone = [...live.keys()].filter((_, i) => i % 7 === round % 7).slice(0, 60);
        for (const collection of ['walk', 'flat', 'big']) await writer.delete({ collection, ids: gone });
        for (const id of gone) live.delete(id);
      }
      for (const collection of ['walk', 'flat', 'big']) {
        for (const options of [undefined, { withPayload: true }, { efSearch: 16 }, { exact: true, withPayload: true }]) {
          for (const q of queries(collection, options)) {
            await same(q);
            asked++;
          }
        }
      }
      // An acknowledged write is there: each of the last ids finds itself first; a deleted one is gone.
      const probe = [...live.entries()].slice(-5);
      const r = await same({ type: 'query', collection: 'flat', dim: DIM, k: 1, vectors: Float32Array.from(probe.flatMap(([, vec]) => [...vec])) });
      asked++;
      expect(r.ids).toEqual(probe.map(([id]) => id));
    }
    const all = await same({ type: 'query', collection: 'walk', dim: DIM, k: 10_000, vectors: vectors(1), options: { exact: true } });
    asked++;
    expect(new Set(all.ids)).toEqual(new Set(live.keys()));
    // The planner's choice, as the JavaScript path makes it: the small collection scanned, the large one walked.
    expect(all.exact).toBe(true);
    expect((await same({ type: 'query', collection: 'big', dim: DIM, k: 3, vectors: vectors(1) })).exact).toBe(false);
    asked++;
    // Every one of those was answered natively.
    expect((await loopStat('answered')) - answeredBefore).toBe(asked);
    // And counted and timed as the server's queries, beside the same queries answered by JavaScript.
    const meters = await queryMeters();
    expect(meters.ok - metersBefore.ok).toBe(2 * asked);
    expect(meters.timed - metersBefore.timed).toBe(2 * asked);
    expect(meters.all).toBe(meters.timed);
    expect(meters.withinTenSeconds).toBe(meters.timed);
    expect(meters.seconds).toBeGreaterThan(metersBefore.seconds);
  });

  it('leaves withVectors (filtered or not), wrong-dim and unknown-collection queries to JavaScript, with the same replies', async () => {
    const answeredBefore = await loopStat('answered');
    const declinedBefore = await loopStat('declined');
    const left: Request[] = [
      {
        type: 'query',
        collection: 'walk',
        dim: DIM,
        k: 5,
        vectors: vectors(1),
        filter: { must: [{ key: 'tag', eq: 'odd' }] },
        options: { withPayload: true, withVectors: true },
      },
      { type: 'query', collection: 'walk', dim: DIM, k: 5, vectors: vectors(2), options: { withVectors: true } },
      { type: 'query', collection: 'nope', dim: DIM, k: 5, vectors: vectors(1) },
      { type: 'query', collection: 'walk', dim: DIM + 1, k: 5, vectors: Float32Array.from({ length: DIM + 1 }, random) },
    ];
    for (const q of left) await same(q);
    expect(await loopStat('answered')).toBe(answeredBefore);
    expect((await loopStat('declined')) - declinedBefore).toBe(left.length);
  });

  it('after a restart, from the column rebuilt from LMDB', async () => {
    const before: Buffer[] = [];
    const asks = ['walk', 'flat', 'big'].flatMap((collection) => queries(collection, { withPayload: true }));
    for (const q of asks) before.push(await viaNative.ask(q));
    await stop();
    await start();
    const answeredBefore = await loopStat('answered');
    for (const [i, q] of asks.entries()) {
      const reply = await same(q);
      // The same documents, scores and payloads as before the restart (request ids differ).
      expect(reply).toEqual(decoded(before[i]!));
    }
    expect((await loopStat('answered')) - answeredBefore).toBe(asks.length);
  });
});
