import { describe, expect, it } from 'vitest';
import { NO_ID, bruteForceTopK, gaussianMixture, loadBgeM3Sentence, loadBigann10k, recallAtK, sharedDataDir, similarity } from './index';

const bigann = loadBigann10k();
const bge = loadBgeM3Sentence();
const NO_DATA = 'skipped: ../shared/data is absent';

describe('bruteForceTopK', () => {
  it('scores every metric higher = more similar', () => {
    const a = Float32Array.from([1, 0, 3, 4]);
    expect(similarity('l2', a, 0, a, 1, 2)).toBe(-(4 + 16));
    expect(similarity('l1', a, 0, a, 1, 2)).toBe(-(2 + 4));
    expect(similarity('ip', a, 0, a, 1, 2)).toBe(3);
    expect(similarity('cosine', a, 0, a, 1, 2)).toBeCloseTo(0.6, 12);
  });

  it('returns sorted results, pads with empty slots, keeps lower ids first on ties, honours allow', () => {
    const base = Float32Array.from([0, 1, 1, 5, 2]); // dim 1; rows 1 and 2 tie
    const r = bruteForceTopK(base, Float32Array.from([1]), 1, 7, 'l2');
    expect(Array.from(r.labels)).toEqual([1, 2, 0, 4, 3, NO_ID, NO_ID]);
    expect(Array.from(r.scores)).toEqual([-0, -0, -1, -1, -16, -Infinity, -Infinity]);
    const f = bruteForceTopK(base, Float32Array.from([1]), 1, 2, 'l2', (row) => row % 2 === 0);
    expect(Array.from(f.labels)).toEqual([2, 0]);
  });
});

describe('recallAtK', () => {
  it('counts hits against the first k truth ids of each row', () => {
    const truth = Int32Array.from([1, 2, 3, 9, 4, 5, 6, 9]); // stride 4
    expect(recallAtK(Uint32Array.from([2, 1, 3, 4, 6, 7]), truth, 2, 3, 4)).toBeCloseTo(5 / 6);
    expect(recallAtK(Uint32Array.from([9, 9, 9, NO_ID, NO_ID, NO_ID]), truth, 2, 3, 4)).toBe(0);
  });
});

describe.skipIf(!bigann)(bigann ? 'bigann10k' : `bigann10k (${NO_DATA})`, () => {
  it('loads with the documented shape', () => {
    expect(sharedDataDir()).not.toBeNull();
    expect(bigann).toMatchObject({ dim: 128, nBase: 10_000, nQueries: 100, gtK: 100, metric: 'l2' });
    // The queries are base rows 0..99.
    expect(bigann!.queries).toEqual(bigann!.base.subarray(0, 100 * 128));
  });

  it('ground truth matches bruteForceTopK on a few queries', () => {
    const d = bigann!;
    const nq = 5;
    const r = bruteForceTopK(d.base, d.queries.subarray(0, nq * d.dim), d.dim, 100, 'l2');
    expect(recallAtK(r.labels, d.groundTruth, nq, 100, d.gtK)).toBe(1);
    for (let q = 0; q < nq; q++) expect(r.labels[q * 100]).toBe(q);
  });
});

describe.skipIf(!bge)(bge ? 'bge-m3 sentence' : `bge-m3 sentence (${NO_DATA})`, () => {
  it('loads with the documented shape, unit norm', () => {
    const d = bge!;
    expect(d).toMatchObject({ dim: 1024, nBase: 400, nQueries: 100, gtK: 10, metric: 'cosine' });
    expect(similarity('ip', d.base, 3, d.base, 3, 1024)).toBeCloseTo(1, 4);
  });

  it('ground truth matches bruteForceTopK (cosine) up to near-duplicate ties', () => {
    const d = bge!;
    const r = bruteForceTopK(d.base, d.queries, d.dim, 10, 'cosine');
    // The README allows one tied id per query at the top-10 boundary.
    expect(recallAtK(r.labels, d.groundTruth, d.nQueries, 10, d.gtK)).toBeGreaterThanOrEqual(0.99);
  });
});

describe('synthetic sets against bruteForceTopK', () => {
  it('finds each query itself when queries are base rows', () => {
    const s = gaussianMixture({ n: 500, nQueries: 0, dim: 8, clusters: 10, seed: 3 });
    const r = bruteForceTopK(s.base, s.base.subarray(0, 10 * 8), 8, 1, 'l2');
    expect(Array.from(r.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
