/**
 * Adapter benchmark (issue 4 §5): `retriever.invoke()` latency and throughput through each
 * framework (LlamaIndex: `vectorStore.query()`), embeddings precomputed (a lookup, so embedding is excluded), ragwire's adapters against
 * LangChain's MemoryVectorStore and LlamaIndex's SimpleVectorStore in the same run, with recall@10
 * of each against the exact top-10 (ragwire's exact scan).
 *
 * The ragwire adapters run embedded (`path`) and over `--shards` shard servers (default 2, each a
 * child process on loopback; 0 leaves them out). For each, efSearch is the smallest of a ladder whose
 * recall@10 on the queries reaches `--recall` (default 0.95).
 *
 *   pnpm --filter @ragwire/bench adapters [--sizes 10000,100000] [--full (adds 1000000)] [--dim 384]
 *        [--queries 200] [--shards 2] [--markdown]
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { BaseEmbedding } from '@llamaindex/core/embeddings';
import { TextNode } from '@llamaindex/core/schema';
import { VectorStoreQueryMode, type VectorStoreQuery } from '@llamaindex/core/vector-store';
import { SimpleVectorStore, Settings } from 'llamaindex';
import { closeEmbeddedStores } from '@ragwire/client';
import { gaussianMixture } from '@ragwire/datasets';
import { RagwireVectorStore as RagwireLangChain } from '@ragwire/langchain';
import { RagwireVectorStore as RagwireLlamaIndex } from '@ragwire/llamaindex';
import { killChildren, startChild, stopChild } from '../e2e-retrieval/processes';
import { describeMachine, machineLine } from '../machine';
import { withProgress } from '../progress';
import { fmt, quantile } from '../stats';
import { renderTable } from '../table';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const SIZES = arg('sizes', '10000,100000')
  .split(',')
  .map(Number)
  .concat(argv.includes('--full') ? [1_000_000] : []);
const DIM = Number(arg('dim', '384'));
const QUERIES = Number(arg('queries', '200'));
const SHARDS = Number(arg('shards', '2'));
const RECALL_TARGET = Number(arg('recall', '0.95'));
const EF_LADDER = [32, 48, 64, 96, 128, 192, 256, 384, 512];
const K = 10;
/** Past this size the in-memory peers (a full scan per query, seconds at 1M) are timed on fewer queries. */
const PEER_FULL_N = 200_000;
const PEER_QUERIES_LARGE = Number(arg('peer-queries', '20'));
const markdown = argv.includes('--markdown');
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Query text `q<i>` -> its precomputed vector; documents are never embedded here. */
const queryVectors = new Map<string, number[]>();
class LookupEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  async embedDocuments(): Promise<number[][]> {
    throw new Error('documents are added with precomputed vectors');
  }
  async embedQuery(text: string): Promise<number[]> {
    return queryVectors.get(text)!;
  }
}
class LookupEmbedding extends BaseEmbedding {
  constructor() {
    super();
  }
  async getTextEmbedding(text: string): Promise<number[]> {
    return queryVectors.get(text)!;
  }
}

/**
 * LlamaIndex rows go through `vectorStore.query()`, the call its retriever makes: a VectorStoreIndex
 * cannot be opened on a SimpleVectorStore alone (it does not store text).
 */
function llamaQuery(q: string): VectorStoreQuery {
  return { queryEmbedding: queryVectors.get(q)!, similarityTopK: K, mode: VectorStoreQueryMode.DEFAULT };
}

interface Row {
  n: number;
  store: string;
  p50ms: number;
  p99ms: number;
  qps: number;
  recall: number;
  queries: number;
  efSearch?: number;
}

/** The smallest efSearch of the ladder whose recall@10 reaches the target (the largest when none does). */
async function tuneEf(target: { path: string } | { shards: string[][] }, truth: string[][]): Promise<{ ef: number; recall: number }> {
  let last = { ef: EF_LADDER[0]!, recall: 0 };
  for (const ef of EF_LADDER) {
    const store = new RagwireLangChain(new LookupEmbeddings(), { ...target, collection: 'lc', efSearch: ef });
    let hits = 0;
    for (let i = 0; i < QUERIES; i++) {
      const want = new Set(truth[i]);
      hits += (await store.similaritySearch(`q${i}`, K)).filter((d) => want.has(d.id!)).length;
    }
    await store.close();
    last = { ef, recall: hits / (QUERIES * K) };
    if (last.recall >= RECALL_TARGET) break;
  }
  log(`  efSearch ${last.ef}: recall@10 ${last.recall.toFixed(3)} (${'path' in target ? 'embedded' : `${target.shards.length} shards`})`);
  return last;
}

async function measure(label: string, n: number, retrieve: (q: string) => Promise<string[]>, truth: string[][], queries = QUERIES): Promise<Row> {
  for (let i = 0; i < Math.min(20, Math.ceil(queries / 10)); i++) await retrieve(`q${i}`); // warm-up
  const times: number[] = [];
  let hits = 0;
  const t0 = performance.now();
  for (let i = 0; i < queries; i++) {
    const s = performance.now();
    const ids = await retrieve(`q${i}`);
    times.push(performance.now() - s);
    const want = new Set(truth[i]);
    hits += ids.filter((id) => want.has(id)).length;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { n, store: label, p50ms: quantile(times, 0.5), p99ms: quantile(times, 0.99), qps: queries / seconds, recall: hits / (queries * K), queries };
}

const machine = describeMachine();
log(`adapters: gmm n in {${SIZES.join(', ')}} x ${DIM}, ${QUERIES} queries, k = ${K}, embeddings precomputed`);
log(machineLine(machine));
process.once('exit', killChildren);
Settings.embedModel = new LookupEmbedding();
const rows: Row[] = [];

for (const n of SIZES) {
  const data = gaussianMixture({ n, nQueries: QUERIES, dim: DIM, clusters: 1000, seed: 42 });
  queryVectors.clear();
  for (let i = 0; i < QUERIES; i++) queryVectors.set(`q${i}`, Array.from(data.queries.subarray(i * DIM, (i + 1) * DIM)));
  const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
  const dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-adapters-'));

  const hnsw = { collection: 'lc', metric: 'cosine', kind: 'hnsw', params: { M: 16, efConstruction: 100 }, efSearch: 64, batchSize: 2000 } as const;
  const addAll = (store: RagwireLangChain, where: string) =>
    withProgress(`ragwire ingest + HNSW build (${where}), n = ${n}`, n, async (p) => {
      for (let s = 0; s < n; s += 10_000) {
        const e = Math.min(n, s + 10_000);
        const vectors = Array.from({ length: e - s }, (_, j) => Array.from(data.base.subarray((s + j) * DIM, (s + j + 1) * DIM)));
        await store.addVectors(
          vectors,
          ids.slice(s, e).map((id) => new Document({ pageContent: id, metadata: {} })),
          { ids: ids.slice(s, e) },
        );
        p.update(e);
      }
    });
  const ragwire = new RagwireLangChain(new LookupEmbeddings(), { path: dir, ...hnsw });
  await addAll(ragwire, 'embedded');
  const exact = new RagwireLangChain(new LookupEmbeddings(), { path: dir, collection: 'lc', exact: true });
  const truth: string[][] = [];
  for (let i = 0; i < QUERIES; i++) truth.push((await exact.similaritySearch(`q${i}`, K)).map((d) => d.id!));

  const { ef } = await tuneEf({ path: dir }, truth);
  const tuned = new RagwireLangChain(new LookupEmbeddings(), { path: dir, collection: 'lc', efSearch: ef });
  const lcRetriever = tuned.asRetriever(K);
  rows.push({ ...(await measure('ragwire (LangChain, HNSW)', n, async (q) => (await lcRetriever.invoke(q)).map((d) => d.id!), truth)), efSearch: ef });
  const liStore = new RagwireLlamaIndex({ path: dir, collection: 'lc', efSearch: ef });
  // Documents were written through LangChain: LlamaIndex rebuilds nodes from text alone (no _node_content).
  rows.push({ ...(await measure('ragwire (LlamaIndex, HNSW)', n, async (q) => (await liStore.query(llamaQuery(q))).ids, truth)), efSearch: ef });

  if (SHARDS > 0) {
    const shards = await Promise.all(
      Array.from({ length: SHARDS }, (_, i) => {
        const shardDir = join(dir, `shard-${i}`);
        mkdirSync(shardDir);
        return startChild<{ tcp: string }>('shard-http.ts', [shardDir, join(dir, `shard-${i}.sock`)]);
      }),
    );
    const target = { shards: shards.map((s) => [s.tcp]) };
    const remote = new RagwireLangChain(new LookupEmbeddings(), { ...target, ...hnsw });
    await addAll(remote, `${SHARDS} shard servers`);
    const { ef: remoteEf } = await tuneEf(target, truth);
    const remoteTuned = new RagwireLangChain(new LookupEmbeddings(), { ...target, collection: 'lc', efSearch: remoteEf });
    const remoteRetriever = remoteTuned.asRetriever(K);
    rows.push({
      ...(await measure(`ragwire (LangChain, ${SHARDS} shards, HNSW)`, n, async (q) => (await remoteRetriever.invoke(q)).map((d) => d.id!), truth)),
      efSearch: remoteEf,
    });
    const liRemote = new RagwireLlamaIndex({ ...target, collection: 'lc', efSearch: remoteEf });
    rows.push({
      ...(await measure(`ragwire (LlamaIndex, ${SHARDS} shards, HNSW)`, n, async (q) => (await liRemote.query(llamaQuery(q))).ids, truth)),
      efSearch: remoteEf,
    });
    await Promise.all([remote.close(), remoteTuned.close(), liRemote.close()]);
    await Promise.all(shards.map((s) => stopChild(s.child)));
  }

  {
    const peerQueries = n <= PEER_FULL_N ? QUERIES : Math.min(QUERIES, PEER_QUERIES_LARGE);
    const memory = new MemoryVectorStore(new LookupEmbeddings());
    const vectors = Array.from({ length: n }, (_, i) => Array.from(data.base.subarray(i * DIM, (i + 1) * DIM)));
    await memory.addVectors(
      vectors,
      ids.map((id) => new Document({ id, pageContent: id, metadata: { id } })),
    );
    const memRetriever = memory.asRetriever(K);
    rows.push(
      await measure('LangChain MemoryVectorStore', n, async (q) => (await memRetriever.invoke(q)).map((d) => d.metadata.id as string), truth, peerQueries),
    );

    const simple = new SimpleVectorStore();
    await simple.add(ids.map((id, i) => new TextNode({ id_: id, text: id, embedding: vectors[i]! })));
    rows.push(await measure('LlamaIndex SimpleVectorStore', n, async (q) => (await simple.query(llamaQuery(q))).ids, truth, peerQueries));
  }
  await Promise.all([ragwire.close(), tuned.close(), exact.close(), liStore.close()]);
  await closeEmbeddedStores();
  rmSync(dir, { recursive: true, force: true });
}

const table = renderTable(
  ['n', 'store', 'efSearch', 'queries', 'p50 ms', 'p99 ms', 'QPS (1 client)', 'recall@10', 'x MemoryVectorStore (p50)'],
  rows.map((r) => {
    const mem = rows.find((m) => m.n === r.n && m.store === 'LangChain MemoryVectorStore');
    return [
      fmt(r.n),
      r.store,
      r.efSearch === undefined ? '-' : String(r.efSearch),
      fmt(r.queries),
      fmt(r.p50ms, 3),
      fmt(r.p99ms, 3),
      fmt(r.qps, r.qps < 10 ? 2 : 0),
      fmt(r.recall, 3),
      mem ? fmt(mem.p50ms / r.p50ms, 1) : '-',
    ];
  }),
  markdown,
);
process.stdout.write(`${machineLine(machine)}\n\n${table}\n`);
const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'adapters.json'),
  JSON.stringify(
    { machine, command: `pnpm --filter @ragwire/bench adapters ${argv.join(' ')}`.trim(), dim: DIM, queries: QUERIES, k: K, recallTarget: RECALL_TARGET, rows },
    null,
    2,
  ),
);
