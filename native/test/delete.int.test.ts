/*
 * Tombstones and compaction: a removed label never comes back (before or after
 * compact()), counts stay right, and adding after remove/compact neither
 * resurrects old vectors nor loses new ones.
 */
import { describe, expect, it } from 'vitest';
import { type Dataset, bruteForceTopK, gaussianMixture, loadBigann10k, loadBgeM3Sentence, recallAtK, similarity } from '@ragwire/datasets';
import { DuplicateLabelError } from '@ragwire/protocol';
import { NO_LABEL, createIndex, type Index, type IndexOptions } from '@ragwire/native';
import { NO_DATA, expectRagwireError, labelRange } from './support';

const K = 10;
const FIRST = 1000; // labels are FIRST + row

function expectNoneOf(labels: Uint32Array, removed: Set<number>): void {
  const back = Array.from(labels).filter((l) => removed.has(l));
  expect(back, `removed labels came back: ${back.slice(0, 10).join(', ')}`).toEqual([]);
}

/** Recall@10 of `index` against the exact top-10 over the rows still live. */
async function liveRecall(index: Index, d: Dataset, live: Set<number>): Promise<number> {
  const ref = bruteForceTopK(d.base, d.queries, d.dim, K, d.metric, (row) => live.has(row));
  const r = await index.search(d.queries, K);
  return recallAtK(
    Uint32Array.from(r.labels, (l) => (l === NO_LABEL ? NO_LABEL : l - FIRST)),
    ref.labels,
    d.nQueries,
    K,
    K,
  );
}

function removalScenario(name: string, data: Dataset | null, options: Omit<IndexOptions, 'dim' | 'metric'>, floor: number): void {
  describe.skipIf(!data)(data ? `remove and compact, ${name}` : `remove and compact, ${name} (${NO_DATA})`, () => {
    it('removed labels never come back, before and after compact(); add after behaves', async () => {
      const d = data!;
      const index = createIndex({ dim: d.dim, metric: d.metric, ...options });
      try {
        await index.add(labelRange(d.nBase, FIRST), d.base);
        // Remove every 7th row, plus the rows nearest to the first queries (bigann's queries are base rows).
        const removedRows = new Set<number>();
        for (let r = 0; r < d.nBase; r += 7) removedRows.add(r);
        const nearest = bruteForceTopK(d.base, d.queries.subarray(0, 20 * d.dim), d.dim, 3, d.metric);
        for (const r of nearest.labels) removedRows.add(r);
        const removed = new Set([...removedRows].map((r) => r + FIRST));
        const live = new Set<number>();
        for (let r = 0; r < d.nBase; r++) if (!removedRows.has(r)) live.add(r);

        const toRemove = Uint32Array.from(removed);
        expect(await index.remove(toRemove)).toBe(removed.size);
        expect(await index.remove(toRemove)).toBe(0);
        expect(await index.remove(Uint32Array.from([FIRST + d.nBase + 5, 7]))).toBe(0);
        expect(index.stats()).toMatchObject({ count: live.size, deleted: removed.size });

        const before = await index.search(d.queries, K);
        expectNoneOf(before.labels, removed);
        expectNoneOf(index.searchSync(d.queries, K).labels, removed);
        expect(before.labels.includes(NO_LABEL)).toBe(false);
        expect(await liveRecall(index, d, live)).toBeGreaterThanOrEqual(floor);

        await index.compact();
        expect(index.stats()).toMatchObject({ count: live.size, deleted: 0 });
        expectNoneOf((await index.search(d.queries, K)).labels, removed);
        expect(await liveRecall(index, d, live)).toBeGreaterThanOrEqual(floor);
        expect(await index.remove(toRemove)).toBe(0);

        // A live label cannot be added again, before or after compact.
        const liveLabel = [...live][0]! + FIRST;
        await expectRagwireError(() => index.add(Uint32Array.from([liveLabel]), d.base.slice(0, d.dim)), DuplicateLabelError, 'RAGWIRE_ERR_DUPLICATE_LABEL');

        // Re-adding a removed label binds it to its new vector only.
        const reused = FIRST + [...removedRows][1]!; // its old vector: base row [...removedRows][1]
        const oldRow = reused - FIRST;
        const newRow = [...live][1]!; // a vector that exists elsewhere too: the new vector of `reused`
        const fresh = FIRST + d.nBase + 1; // a label never seen
        const freshRow = [...live][2]!;
        await index.add(
          Uint32Array.from([reused, fresh]),
          Float32Array.from([...d.base.subarray(newRow * d.dim, (newRow + 1) * d.dim), ...d.base.subarray(freshRow * d.dim, (freshRow + 1) * d.dim)]),
        );
        expect(index.stats()).toMatchObject({ count: live.size + 2, deleted: 0 });
        const probe = await index.search(
          Float32Array.from([
            ...d.base.subarray(oldRow * d.dim, (oldRow + 1) * d.dim),
            ...d.base.subarray(newRow * d.dim, (newRow + 1) * d.dim),
            ...d.base.subarray(freshRow * d.dim, (freshRow + 1) * d.dim),
          ]),
          K,
          { efSearch: 128 },
        );
        // Probe 0: the old vector of `reused`. If `reused` comes back, its score must be that of its new vector.
        const at = Array.from(probe.labels.subarray(0, K)).indexOf(reused);
        if (at >= 0) {
          const wantScore = similarity(d.metric, d.base, oldRow, d.base, newRow, d.dim);
          expect(Math.abs(probe.scores[at]! - wantScore)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(wantScore)));
        }
        // Probes 1 and 2: the new vectors are found under their labels.
        expect(Array.from(probe.labels.subarray(K, 2 * K))).toContain(reused);
        expect(Array.from(probe.labels.subarray(2 * K, 3 * K))).toContain(fresh);

        // Remove after re-add, then compact again: gone for good.
        expect(await index.remove(Uint32Array.from([reused, fresh]))).toBe(2);
        await index.compact();
        const after = await index.search(d.queries, K);
        expectNoneOf(after.labels, new Set([...removed, fresh]));
        expect(index.stats()).toMatchObject({ count: live.size, deleted: 0 });
      } finally {
        index.close();
      }
    });
  });
}

const bigann = loadBigann10k();
const bge = loadBgeM3Sentence();
const HNSW = { M: 16, efConstruction: 200, efSearch: 64 };
removalScenario('hnsw on bigann10k', bigann, { kind: 'hnsw', hnsw: HNSW }, 0.95);
removalScenario('hnsw sq8 on bigann10k', bigann, { kind: 'hnsw', storage: 'sq8', hnsw: HNSW }, 0.94);
removalScenario('flat on bge-m3 sentence', bge, { kind: 'flat' }, 0.99);
removalScenario('bq on bge-m3 sentence', bge, { kind: 'bq' }, 0.9);

describe('remove everything', () => {
  for (const kind of ['flat', 'hnsw', 'bq'] as const) {
    it(`${kind}: an emptied index answers with empty slots, and can be filled again`, async () => {
      const s = gaussianMixture({ n: 300, nQueries: 5, dim: 16, clusters: 10, seed: 9 });
      const index = createIndex({ dim: 16, metric: 'l2', kind });
      try {
        await index.add(labelRange(300), s.base);
        expect(await index.remove(labelRange(300))).toBe(300);
        let r = await index.search(s.queries, 3);
        expect(Array.from(r.labels)).toEqual(Array(15).fill(NO_LABEL));
        expect(Array.from(r.scores)).toEqual(Array(15).fill(-Infinity));
        await index.compact();
        expect(index.stats()).toMatchObject({ count: 0, deleted: 0 });
        r = await index.search(s.queries, 3);
        expect(Array.from(r.labels)).toEqual(Array(15).fill(NO_LABEL));
        await index.add(labelRange(300), s.base);
        r = await index.search(s.base.subarray(0, 16), 1);
        expect(r.labels[0]).toBe(0);
      } finally {
        index.close();
      }
    });
  }
});
