/*
 * Approximate kinds on real data, against the data sets' own ground truth.
 * Documented settings: M 16, efConstruction 200, efSearch 64 (the engine's
 * defaults), k 10. Floors: hnsw recall@10 >= 0.95; f16 and sq8 within 0.01 of
 * f32 after rerank (sq8 with inline codes too); bq with its default rerank >= 0.90 on bge-m3.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bruteForceTopK, loadBgeM3Sentence, loadBigann10k, recallAtK, type Dataset } from '@ragwire/datasets';
import { NO_LABEL, createIndex, type IndexOptions } from '@ragwire/native';
import { NO_DATA, labelRange, tieAwareRecall } from './support';

const HNSW = { M: 16, efConstruction: 200, efSearch: 64 } as const;
const EF_SEARCH = 64;
const K = 10;

async function recallOf(d: Dataset, options: Omit<IndexOptions, 'dim' | 'metric'>, efSearch = EF_SEARCH): Promise<number> {
  const index = createIndex({ dim: d.dim, metric: d.metric, ...options });
  try {
    await index.add(labelRange(d.nBase), d.base);
    const r = await index.search(d.queries, K, { efSearch });
    expect(r.labels.length).toBe(d.nQueries * K);
    return recallAtK(r.labels, d.groundTruth, d.nQueries, K, d.gtK);
  } finally {
    index.close();
  }
}

function suite(name: string, data: Dataset | null): void {
  describe.skipIf(!data)(data ? `hnsw on ${name}` : `hnsw on ${name} (${NO_DATA})`, () => {
    let f32 = 0;
    beforeAll(async () => {
      f32 = await recallOf(data!, { kind: 'hnsw', storage: 'f32', hnsw: HNSW });
    });

    it(`f32 reaches recall@10 >= 0.95 at efSearch ${EF_SEARCH}`, () => {
      expect(f32).toBeGreaterThanOrEqual(0.95);
    });

    it('the graph built by one parallel add reaches every vector (k = efSearch = n)', async () => {
      // A beam as wide as the index explores the whole part of the graph reachable from the entry point.
      // HNSW's neighbour pruning can leave a node with no in-link (hnswlib's too): without the relink pass
      // after each add, 2 of 60 parallel builds here left 1 of 10,000 vectors unreached; with it, 0 of 110.
      const d = data!;
      const n = Math.min(d.nBase, 10_000);
      const index = createIndex({ dim: d.dim, metric: d.metric, kind: 'hnsw', hnsw: HNSW });
      try {
        await index.add(labelRange(n), d.base.subarray(0, n * d.dim));
        const r = await index.search(d.queries.subarray(0, 2 * d.dim), n, { efSearch: n });
        for (let q = 0; q < 2; q++) {
          const reached = r.labels.subarray(q * n, (q + 1) * n).filter((l) => l !== NO_LABEL).length;
          expect(reached, `query ${q} reached ${reached} of ${n} vectors`).toBe(n);
        }
      } finally {
        index.close();
      }
    });

    for (const storage of ['f16', 'sq8'] as const) {
      it(`${storage} stays within 0.01 of f32 after rerank`, async () => {
        const r = await recallOf(data!, { kind: 'hnsw', storage, hnsw: HNSW });
        expect(r).toBeGreaterThanOrEqual(f32 - 0.01);
      });

      if (storage === 'sq8')
        it('sq8 with inline codes on layer 0 stays within 0.01 of f32 after rerank', async () => {
          const r = await recallOf(data!, { kind: 'hnsw', storage, hnsw: { ...HNSW, inlineCodes: true } });
          expect(r).toBeGreaterThanOrEqual(f32 - 0.01);
        });

      it(`flat ${storage} stays within 0.01 of exact after rerank`, async () => {
        const r = await recallOf(data!, { kind: 'flat', storage });
        const exact = await recallOf(data!, { kind: 'flat', storage: 'f32' });
        expect(r).toBeGreaterThanOrEqual(exact - 0.01);
      });
    }

    it('search uses the index default efSearch when none is given, and a larger efSearch does not lose recall', async () => {
      const d = data!;
      const index = createIndex({ dim: d.dim, metric: d.metric, kind: 'hnsw', hnsw: HNSW });
      try {
        await index.add(labelRange(d.nBase), d.base);
        const byDefault = await index.search(d.queries, K);
        const explicit = await index.search(d.queries, K, { efSearch: EF_SEARCH });
        expect(byDefault.labels).toEqual(explicit.labels);
        // Ties (integer SIFT distances, near-duplicate sentences) make id-based recall jitter; compare tie-aware.
        const exact = bruteForceTopK(d.base, d.queries, d.dim, K, d.metric).scores;
        const wide = await index.search(d.queries, K, { efSearch: 256 });
        const atDefault = tieAwareRecall(explicit, exact, d.base, d.queries, d.dim, d.metric);
        expect(tieAwareRecall(wide, exact, d.base, d.queries, d.dim, d.metric)).toBeGreaterThanOrEqual(atDefault);
        const sync = index.searchSync(d.queries, K, { efSearch: EF_SEARCH });
        expect(sync.labels).toEqual(explicit.labels);
        expect(sync.scores).toEqual(explicit.scores);
      } finally {
        index.close();
      }
    });
  });
}

const bigann = loadBigann10k();
const bge = loadBgeM3Sentence();
suite('bigann10k', bigann);
suite('bge-m3 sentence', bge);

describe.skipIf(!bge)(bge ? 'bq on bge-m3 sentence' : `bq on bge-m3 sentence (${NO_DATA})`, () => {
  it('reaches recall@10 >= 0.90 with its default rerank', async () => {
    expect(await recallOf(bge!, { kind: 'bq' })).toBeGreaterThanOrEqual(0.9);
  });

  it('accepts rerankFactor at build and search time, and more rerank does not lose recall', async () => {
    const d = bge!;
    const index = createIndex({ dim: d.dim, metric: 'cosine', kind: 'bq', bq: { rerankFactor: 5 } });
    try {
      await index.add(labelRange(d.nBase), d.base);
      const small = await index.search(d.queries, K);
      const large = await index.search(d.queries, K, { rerankFactor: 40 });
      const rs = recallAtK(small.labels, d.groundTruth, d.nQueries, K, d.gtK);
      const rl = recallAtK(large.labels, d.groundTruth, d.nQueries, K, d.gtK);
      expect(rl).toBeGreaterThanOrEqual(rs);
      // 40 x 10 candidates cover the whole 400-vector base: exact.
      expect(rl).toBeGreaterThanOrEqual(0.99);
    } finally {
      index.close();
    }
  });
});
