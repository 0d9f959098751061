// Issue 4 §3: one conformance suite for @ragwire/langchain and @ragwire/llamaindex, embedded and over 2 shard servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeEmbeddedStores, type CollectionTarget } from '@ragwire/client';
import { transports } from '@ragwire/native';
import { CORPUS, QUERIES, expectedTopK } from './adapters/corpus';
import { langchainHarness, llamaindexHarness, type AdapterHarness, type HarnessFactory } from './adapters/harness';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const K = 5;
const adapters: [string, HarnessFactory][] = [
  ['langchain', langchainHarness],
  ['llamaindex', llamaindexHarness],
];

/** Where a suite's collection lives, and how to bring that place back after a restart. */
interface Deployment {
  target(collection: string): CollectionTarget;
  restart(): Promise<void>;
}

const dirs = [tempDir('adapters-embedded'), tempDir('adapters-shard0'), tempDir('adapters-shard1')];
let shards: ShardProcess[] = [];
// The same suite over ucx:// where this build has UCX: two more shard servers listening on it.
const UCX = transports().ucx.available;
const ucxDirs = UCX ? [tempDir('adapters-ucx0'), tempDir('adapters-ucx1')] : [];
let ucxShards: ShardProcess[] = [];
const startUcxShards = () => Promise.all(ucxDirs.map((d) => startShardProcess({ dataDir: d.path, listen: ['ucx://127.0.0.1:0'] })));

const deployments: [string, Deployment][] = [
  [
    'embedded',
    {
      target: (collection) => ({ path: dirs[0]!.path, collection }),
      restart: () => closeEmbeddedStores(),
    },
  ],
  [
    '2 shard servers',
    {
      target: (collection) => ({ shards: shards.map((s) => [s.addresses[0]!]), collection }),
      restart: async () => {
        await Promise.all(shards.map((s) => s.stop()));
        shards = await Promise.all(dirs.slice(1).map((d) => startShardProcess({ dataDir: d.path })));
      },
    },
  ],
  ...(UCX
    ? ([
        [
          '2 shard servers over ucx://',
          {
            target: (collection) => ({ shards: ucxShards.map((s) => [s.addresses[0]!]), collection }),
            restart: async () => {
              await Promise.all(ucxShards.map((s) => s.stop()));
              ucxShards = await startUcxShards();
            },
          },
        ],
      ] satisfies [string, Deployment][])
    : []),
];

beforeAll(async () => {
  shards = await Promise.all(dirs.slice(1).map((d) => startShardProcess({ dataDir: d.path })));
  ucxShards = await startUcxShards();
});

afterAll(async () => {
  await closeEmbeddedStores();
  await Promise.all([...shards, ...ucxShards].map((s) => s.stop()));
  killAll();
  for (const d of [...dirs, ...ucxDirs]) d.cleanup();
});

const ids = (hits: { id: string }[]) => hits.map((h) => h.id);

for (const [deploymentName, deployment] of deployments) {
  for (const [adapterName, harness] of adapters) {
    describe(`${adapterName} on ${deploymentName}`, () => {
      const collection = `conformance_${adapterName}`;
      let store: AdapterHarness;
      let live = CORPUS;

      beforeAll(async () => {
        store = harness(deployment.target(collection));
        expect(await store.add(CORPUS)).toEqual(CORPUS.map((d) => d.id));
      });

      afterAll(async () => {
        await store?.close();
      });

      it('answers the exact top-k in order, with text and metadata round-tripped', async () => {
        for (const q of QUERIES) {
          const hits = await store.search(q, K);
          expect(ids(hits)).toEqual(expectedTopK(q, K));
          for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
        }
        const [top] = await store.search(CORPUS[7]!.text, 1);
        expect(top!.id).toBe('doc-7');
        expect(top!.text).toBe(CORPUS[7]!.text);
        expect(top!.metadata).toMatchObject(CORPUS[7]!.metadata);
        expect(top!.score).toBeCloseTo(1, 5);
      });

      it('filters on equality, ranges and nested keys', async () => {
        for (const q of QUERIES.slice(0, 3)) {
          expect(ids(await store.searchSource(q, K, 's1.md'))).toEqual(expectedTopK(q, K, (d) => d.metadata.source === 's1.md'));
          expect(ids(await store.searchRangeAndAuthor(q, K, 20, 'Ada'))).toEqual(
            expectedTopK(q, K, (d) => d.metadata.n >= 20 && d.metadata.author.name === 'Ada'),
          );
        }
      });

      it('picks diverse results by MMR among the nearest candidates', async () => {
        const q = QUERIES[0]!;
        const relevant = await store.mmr(q, K, 4 * K, 1);
        expect(ids(relevant)).toEqual(expectedTopK(q, K));
        const diverse = await store.mmr(q, K, 4 * K, 0.1);
        expect(diverse).toHaveLength(K);
        const candidates = new Set(expectedTopK(q, 4 * K));
        for (const h of diverse) expect(candidates.has(h.id)).toBe(true);
        expect(ids(diverse)).not.toEqual(expectedTopK(q, K));
        expect(diverse[0]!.id).toBe(expectedTopK(q, 1)[0]);
      });

      it('finds a passage by its words in hybrid search (BM25 fused with the dense search)', async () => {
        for (const n of [42, 7, 58]) {
          const hits = await store.hybrid(`passage ${n}`, K, 0.2);
          expect(hits[0]!.id).toBe(`doc-${n}`);
          expect(hits[0]!.text).toBe(CORPUS[n]!.text);
          for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
        }
      });

      it('deletes by id and by source document', async () => {
        await store.deleteIds(['doc-0', 'doc-1']);
        await store.deleteGroup('g5'); // doc-15, doc-16, doc-17
        live = CORPUS.filter((d) => !['doc-0', 'doc-1'].includes(d.id) && d.group !== 'g5');
        for (const q of QUERIES) expect(ids(await store.search(q, K))).toEqual(expectedTopK(q, K, undefined, live));
        expect(ids(await store.search(CORPUS[16]!.text, 1))).not.toContain('doc-16');
      });

      it('keeps every acknowledged write across a restart', async () => {
        await store.close();
        await deployment.restart();
        store = harness(deployment.target(collection));
        for (const q of QUERIES) expect(ids(await store.search(q, K))).toEqual(expectedTopK(q, K, undefined, live));
      });
    });
  }
}
