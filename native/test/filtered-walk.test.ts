/*
 * The filtered HNSW walk with a filter that follows the clusters (whole cells allowed, queries from
 * the excluded cells only): the rows nearest each query are all rejected, and a beam of efSearch
 * fills with the first allowed rows it meets. The walk widens while its neighbourhood holds fewer
 * allowed rows than the filter's share (hnsw_search.cpp), and keeps recall@10 >= 0.95. The engine
 * is asked directly, with no exact scan of a small allow-list (filterScanThreshold 0).
 */
import { describe, expect, it } from 'vitest';
import { bruteForceTopK, cellPartition, clusteredFilter, gaussianMixture } from '@ragwire/datasets';
import { createIndex } from '@ragwire/native';

const K = 10;

describe('filtered walk on cluster-correlated filters', () => {
  it('keeps recall@10 >= 0.95 at 10% and 50% selectivity at the default efSearch', async () => {
    const d = gaussianMixture({ n: 20_000, nQueries: 300, dim: 128, clusters: 40, seed: 7 });
    const cells = cellPartition(d, 40);
    const index = createIndex({ dim: d.dim, metric: 'l2', kind: 'hnsw' });
    await index.add(
      Uint32Array.from({ length: d.nBase }, (_, i) => i),
      d.base,
    );
    for (const share of [0.1, 0.5]) {
      const f = clusteredFilter(cells, share);
      const bits = new Uint8Array(Math.ceil(d.nBase / 8));
      for (let r = 0; r < d.nBase; r++) if (f.allows(r)) bits[r >> 3]! |= 1 << (r & 7);
      const qs = new Float32Array(f.queries.length * d.dim);
      f.queries.forEach((q, i) => qs.set(d.queries.subarray(q * d.dim, (q + 1) * d.dim), i * d.dim));
      const truth = bruteForceTopK(d.base, qs, d.dim, K, 'l2', f.allows);
      const r = await index.search(qs, K, { filter: bits, filterScanThreshold: 0 });
      let found = 0;
      for (let q = 0; q < f.queries.length; q++) {
        const want = new Set(truth.labels.subarray(q * K, (q + 1) * K));
        for (const l of r.labels.subarray(q * K, (q + 1) * K)) {
          expect(f.allows(l), `label ${l} passes the filter`).toBe(true);
          if (want.has(l)) found++;
        }
      }
      const recall = found / (f.queries.length * K);
      console.log(`clustered filter ${(f.selectivity * 100).toFixed(1)}% (${f.queries.length} queries): recall@${K} ${recall.toFixed(4)}`);
      expect(recall, `${(f.selectivity * 100).toFixed(1)}%`).toBeGreaterThanOrEqual(0.95);
    }
    index.close();
  });
});
