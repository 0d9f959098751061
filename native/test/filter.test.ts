/*
 * Allow-list filters, as a bitset (bit label&7 of byte label>>3) and as a
 * sorted Uint32Array. Only allowed labels may come back, and at 10%
 * selectivity hnsw keeps recall@10 >= 0.9 against the filtered brute force.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng, loadBigann10k, recallAtK } from '@ragwire/datasets';
import { NO_LABEL, createIndex, type Index } from '@ragwire/native';
import { NO_DATA, expectExactTopK, filteredReference, labelRange } from './support';

const bigann = loadBigann10k();
const K = 10;
// Labels are not row numbers: row i has label LABEL_BASE + 3 * i.
const LABEL_BASE = 100;
const labelOf = (row: number): number => LABEL_BASE + 3 * row;
const rowOf = (label: number): number => (label - LABEL_BASE) / 3;

/** `fraction` of the rows, chosen by a seeded draw. */
function sampleRows(n: number, fraction: number, seed: number): Set<number> {
  const rng = new Prng(seed);
  const rows = new Set<number>();
  for (let i = 0; i < n; i++) if (rng.nextFloat() < fraction) rows.add(i);
  return rows;
}

function sortedLabels(rows: Set<number>): Uint32Array {
  return Uint32Array.from([...rows].map(labelOf)).sort();
}

function bitset(rows: Set<number>, maxLabel: number): Uint8Array {
  const bits = new Uint8Array((maxLabel >> 3) + 1);
  for (const r of rows) {
    const l = labelOf(r);
    bits[l >> 3]! |= 1 << (l & 7);
  }
  return bits;
}

function expectOnlyAllowed(labels: Uint32Array, allowed: Set<number>, allowEmpty = false): void {
  const bad = Array.from(labels).filter((l) => (l === NO_LABEL ? !allowEmpty : !allowed.has(rowOf(l))));
  expect(bad, `labels outside the allow-list: ${bad.slice(0, 10).join(', ')}`).toEqual([]);
}

describe.skipIf(!bigann)(bigann ? 'filtered search on bigann10k' : `filtered search on bigann10k (${NO_DATA})`, () => {
  const d = bigann!;
  const maxLabel = d ? labelOf(d.nBase - 1) : 0;
  let hnsw: Index;
  let flat: Index;
  let bq: Index;

  beforeAll(async () => {
    const labels = Uint32Array.from({ length: d.nBase }, (_, i) => labelOf(i));
    hnsw = createIndex({ dim: d.dim, metric: 'l2', kind: 'hnsw', hnsw: { M: 16, efConstruction: 200, efSearch: 64 } });
    flat = createIndex({ dim: d.dim, metric: 'l2', kind: 'flat' });
    bq = createIndex({ dim: d.dim, metric: 'l2', kind: 'bq' });
    await Promise.all([hnsw.add(labels, d.base), flat.add(labels, d.base), bq.add(labels, d.base)]);
  });
  afterAll(() => {
    hnsw?.close();
    flat?.close();
    bq?.close();
  });

  for (const [fraction, floor] of [
    [0.1, 0.9],
    [0.01, 0],
  ] as const) {
    it(`hnsw at ${fraction * 100}% selectivity: only allowed labels, full rows${floor ? `, recall@10 >= ${floor}` : ''}, both filter forms`, async () => {
      const rows = sampleRows(d.nBase, fraction, 11);
      const ref = filteredReference(d.base, d.queries, d.dim, K, 'l2', rows);
      const bySorted = await hnsw.search(d.queries, K, { filter: sortedLabels(rows) });
      const byBits = await hnsw.search(d.queries, K, { filter: bitset(rows, maxLabel) });
      for (const r of [bySorted, byBits]) {
        expectOnlyAllowed(r.labels, rows);
        const recall = recallAtK(Uint32Array.from(r.labels, rowOf), ref.labels, d.nQueries, K, K);
        expect(recall).toBeGreaterThanOrEqual(floor);
      }
      // The same allow-list in either form is the same search.
      expect(byBits.labels).toEqual(bySorted.labels);
      expect(hnsw.searchSync(d.queries, K, { filter: sortedLabels(rows) }).labels).toEqual(bySorted.labels);
    });
  }

  it('flat with a filter equals the filtered brute force, in both forms', async () => {
    const rows = sampleRows(d.nBase, 0.1, 12);
    const ref = filteredReference(d.base, d.queries, d.dim, K, 'l2', rows);
    for (const filter of [sortedLabels(rows), bitset(rows, maxLabel)]) {
      const r = await flat.search(d.queries, K, { filter });
      expectOnlyAllowed(r.labels, rows);
      expectExactTopK(r, ref, d.base, d.queries, d.dim, 'l2', rowOf);
    }
  });

  it('bq with a filter returns only allowed labels', async () => {
    const rows = sampleRows(d.nBase, 0.1, 13);
    for (const filter of [sortedLabels(rows), bitset(rows, maxLabel)]) {
      const r = await bq.search(d.queries, K, { filter });
      expectOnlyAllowed(r.labels, rows);
      expect(r.labels.includes(NO_LABEL)).toBe(false);
    }
  });

  it('fewer allowed labels than k: those, then empty slots', async () => {
    const rows = new Set([5, 500, 5000]);
    for (const index of [hnsw, flat, bq]) {
      for (const filter of [sortedLabels(rows), bitset(rows, maxLabel)]) {
        const r = await index.search(d.queries.subarray(0, 4 * d.dim), K, { filter });
        for (let q = 0; q < 4; q++) {
          const row = Array.from(r.labels.subarray(q * K, (q + 1) * K));
          expect(new Set(row.slice(0, 3))).toEqual(new Set([...rows].map(labelOf)));
          expect(row.slice(3)).toEqual(Array(K - 3).fill(NO_LABEL));
          expect(Array.from(r.scores.subarray(q * K + 3, (q + 1) * K))).toEqual(Array(K - 3).fill(-Infinity));
        }
      }
    }
  });

  it('an allow-list that allows nothing returns nothing', async () => {
    for (const index of [hnsw, flat, bq]) {
      for (const filter of [new Uint32Array(0), new Uint8Array((maxLabel >> 3) + 1)]) {
        const r = await index.search(d.queries.subarray(0, 2 * d.dim), K, { filter });
        expect(Array.from(r.labels)).toEqual(Array(2 * K).fill(NO_LABEL));
      }
    }
  });

  it('a bitset shorter than the largest label disallows the labels past its end', async () => {
    const rows = sampleRows(d.nBase, 0.5, 14);
    const bits = bitset(rows, maxLabel).subarray(0, labelOf(2000) >> 3);
    const r = await hnsw.search(d.queries, K, { filter: bits });
    expectOnlyAllowed(r.labels, new Set([...rows].filter((row) => labelOf(row) >> 3 < bits.length)), true);
  });

  it('the filter does not change unfiltered searches that follow', async () => {
    const before = await hnsw.search(d.queries, K);
    await hnsw.search(d.queries, K, { filter: sortedLabels(sampleRows(d.nBase, 0.1, 15)) });
    expect((await hnsw.search(d.queries, K)).labels).toEqual(before.labels);
    expect(recallAtK(Uint32Array.from(before.labels, rowOf), d.groundTruth, d.nQueries, K, d.gtK)).toBeGreaterThanOrEqual(0.95);
  });
});

describe('filter on a small synthetic index', () => {
  it('a label allowed but never added is harmless', async () => {
    const index = createIndex({ dim: 4, metric: 'l2', kind: 'hnsw' });
    try {
      await index.add(
        labelRange(50),
        Float32Array.from({ length: 200 }, (_, i) => Math.sin(i)),
      );
      const r = await index.search(new Float32Array(4), 5, { filter: Uint32Array.from([3, 7, 1000, 99999]) });
      expect(Array.from(r.labels).sort((a, b) => a - b)).toEqual([3, 7, NO_LABEL, NO_LABEL, NO_LABEL]);
    } finally {
      index.close();
    }
  });
});
