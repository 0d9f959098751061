/**
 * One benchmark shard process: a store served both by ragwire-shard (binary protocol over TCP, TCP on
 * the native data plane (native+tcp://), a Unix socket, and ucx:// where built) and by a fastify HTTP/JSON search endpoint, the "traditional" path. Same process,
 * same store, same engine: only the wire differs.
 *
 * A second server on the same store listens on native+tcp:// with `nativeAnswers: false` (every frame
 * to JavaScript), for the comparison with the native plane's own answers. POST /engine-latency times
 * the engine's own search of the same index, in this process (no wire, no JavaScript around it), and
 * POST /engine-batch its batched search.
 *
 *   shard-http.ts <data dir> <unix socket path>   prints one JSON line {tcp, unix, nativeTcp, nativeTcpJs, ucx?, http, pid} when ready
 */
import Fastify from 'fastify';
import { transports } from '@ragwire/native';
import { startShardServer } from '@ragwire/shard-server';
import { openStore } from '@ragwire/store';
import type { Payload } from '@ragwire/protocol';

const [dir, sock] = [process.argv[2]!, process.argv[3]!];
const store = await openStore({ path: dir });
const withUcx = transports().ucx.available;
// native+tcp:// is TCP read by the native data plane's thread; it announces itself as tcp://.
const listen = ['tcp://127.0.0.1:0', `unix://${sock}`, 'native+tcp://127.0.0.1:0', ...(withUcx ? ['ucx://127.0.0.1:0'] : [])];
const server = await startShardServer({ listen, store, logLevel: 'error' });
const jsServer = await startShardServer({ listen: ['native+tcp://127.0.0.1:0'], store, logLevel: 'error', nativeAnswers: false });

interface QueryBody {
  vector: number[];
  k: number;
  withPayload?: boolean;
  efSearch?: number;
  exact?: boolean;
}

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
app.post<{ Params: { name: string }; Body: QueryBody }>('/collections/:name/query', async (req) => {
  const { vector, k, withPayload, efSearch, exact } = req.body;
  const options: { withPayload?: boolean; efSearch?: number; exact?: boolean } = {};
  if (withPayload) options.withPayload = true;
  if (efSearch !== undefined) options.efSearch = efSearch;
  if (exact) options.exact = true;
  const r = await store.collection(req.params.name).query({ vectors: Float32Array.from(vector), k, options });
  const hits: { id: string; score: number; payload?: Payload | null }[] = [];
  for (let i = 0; i < r.ids.length; i++) {
    const hit: { id: string; score: number; payload?: Payload | null } = { id: r.ids[i]!, score: r.scores[i]! };
    if (r.payloads) hit.payload = r.payloads[i] ?? null;
    hits.push(hit);
  }
  return { hits };
});
app.post<{ Params: { name: string }; Body: { vectors: number[]; k: number; efSearch: number } }>('/collections/:name/engine-latency', async (req) => {
  const { vectors, k, efSearch } = req.body;
  const index = store.collection(req.params.name).index;
  const q = Float32Array.from(vectors);
  const n = q.length / index.dim;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    index.searchSync(q.subarray(i * index.dim, (i + 1) * index.dim), k, { efSearch });
    times.push((performance.now() - t) * 1000);
  }
  times.sort((a, b) => a - b);
  return { p50Us: times[Math.floor(n / 2)]!, p99Us: times[Math.floor(n * 0.99)]!, count: n };
});
// The engine's batched search of the same queries, in this process on its own threads: the QPS the
// wire is measured against (`rounds` batches of all the queries).
app.post<{ Params: { name: string }; Body: { vectors: number[]; k: number; efSearch: number; rounds: number } }>(
  '/collections/:name/engine-batch',
  async (req) => {
    const { vectors, k, efSearch, rounds } = req.body;
    const index = store.collection(req.params.name).index;
    const q = Float32Array.from(vectors);
    const n = q.length / index.dim;
    await index.search(q, k, { efSearch });
    const t = performance.now();
    for (let r = 0; r < rounds; r++) await index.search(q, k, { efSearch });
    return { qps: (n * rounds) / ((performance.now() - t) / 1000), queries: n * rounds };
  },
);
const http = await app.listen({ host: '127.0.0.1', port: 0 });

process.stdout.write(
  JSON.stringify({
    tcp: server.addresses[0],
    unix: server.addresses[1],
    nativeTcp: server.addresses[2],
    nativeTcpJs: jsServer.addresses[0],
    ucx: server.addresses[3],
    http,
    pid: process.pid,
  }) + '\n',
);
process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await jsServer.close();
    await server.close();
    await store.close();
    process.exit(0);
  })();
});
