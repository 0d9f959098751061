// Engine facts and conventions: ISA, thread pool, bandwidth probe, stats, score signs, result layout.
import { describe, expect, it } from 'vitest';
import { NO_LABEL, createIndex, engineThreads, isa, measureReadBandwidth } from '@ragwire/native';
import { labelRange } from './support';

describe('engine', () => {
  it('reports its instruction set and thread pool', () => {
    expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(isa());
    expect(Number.isInteger(engineThreads())).toBe(true);
    expect(engineThreads()).toBeGreaterThanOrEqual(1);
    expect(NO_LABEL).toBe(0xffffffff);
  });

  it('measures a positive, finite read bandwidth', () => {
    const gbps = measureReadBandwidth(64 << 20);
    expect(Number.isFinite(gbps)).toBe(true);
    expect(gbps).toBeGreaterThan(0.1);
  });

  it('scores are higher = more similar, as documented for each metric', async () => {
    const base = Float32Array.from([1, 0, 3, 4]); // two 2-d vectors
    const q = Float32Array.from([1, 0]);
    const want = { l2: [-0, -20], l1: [-0, -6], ip: [1, 3], cosine: [1, 0.6] } as const;
    for (const metric of ['l2', 'l1', 'ip', 'cosine'] as const) {
      for (const kind of ['flat', 'hnsw', 'bq'] as const) {
        const index = createIndex({ dim: 2, metric, kind });
        try {
          await index.add(Uint32Array.from([7, 9]), base);
          const r = await index.search(q, 2);
          expect(r.k).toBe(2);
          const byLabel = new Map([...r.labels].map((l, i) => [l, r.scores[i]!]));
          expect(byLabel.get(7), `${kind}/${metric}`).toBeCloseTo(want[metric][0], 5);
          expect(byLabel.get(9), `${kind}/${metric}`).toBeCloseTo(want[metric][1], 5);
          expect(r.scores[0]!).toBeGreaterThanOrEqual(r.scores[1]!);
        } finally {
          index.close();
        }
      }
    }
  });

  it('pads rows with empty slots when k exceeds the live count', async () => {
    for (const kind of ['flat', 'hnsw', 'bq'] as const) {
      const index = createIndex({ dim: 3, metric: 'l2', kind });
      try {
        await index.add(
          labelRange(4, 50),
          Float32Array.from({ length: 12 }, (_, i) => i),
        );
        const r = await index.search(Float32Array.from([0, 1, 2, 9, 10, 11]), 6);
        expect(r.labels.length).toBe(12);
        expect(Array.from(r.labels.subarray(0, 6))).toEqual([50, 51, 52, 53, NO_LABEL, NO_LABEL]);
        expect(Array.from(r.labels.subarray(6))).toEqual([53, 52, 51, 50, NO_LABEL, NO_LABEL]);
        expect(Array.from(r.scores.subarray(4, 6))).toEqual([-Infinity, -Infinity]);
        const empty = createIndex({ dim: 3, metric: 'l2', kind });
        expect(Array.from((await empty.search(Float32Array.from([1, 2, 3]), 2)).labels)).toEqual([NO_LABEL, NO_LABEL]);
        empty.close();
      } finally {
        index.close();
      }
    }
  });

  it('stats describe the index; memory grows with the data', async () => {
    const index = createIndex({ dim: 16, metric: 'cosine', kind: 'hnsw', storage: 'f16' });
    try {
      const empty = index.stats();
      expect(empty).toMatchObject({ dim: 16, metric: 'cosine', kind: 'hnsw', storage: 'f16', count: 0, deleted: 0, isa: isa() });
      await index.add(
        labelRange(5000),
        Float32Array.from({ length: 5000 * 16 }, (_, i) => Math.sin(i * 1.7)),
      );
      const full = index.stats();
      expect(full.count).toBe(5000);
      expect(full.memoryBytes).toBeGreaterThan(empty.memoryBytes);
      expect(full.memoryBytes).toBeGreaterThan(5000 * 16 * 2);
      expect(full.maxLevel).toBeGreaterThanOrEqual(1);
    } finally {
      index.close();
    }
  });

  it('defaults: kind hnsw, storage f32', () => {
    const index = createIndex({ dim: 4, metric: 'ip' });
    expect(index.stats()).toMatchObject({ kind: 'hnsw', storage: 'f32' });
    index.close();
  });

  it('close() during a running search lets it finish; later calls throw', async () => {
    const index = createIndex({ dim: 16, metric: 'l2', kind: 'flat' });
    const data = Float32Array.from({ length: 20_000 * 16 }, (_, i) => Math.sin(i * 0.31));
    await index.add(labelRange(20_000), data);
    const running = index.search(data.subarray(0, 2000 * 16), 10);
    const removing = index.remove(labelRange(10));
    index.close();
    const r = await running;
    expect(r.labels.length).toBe(20_000);
    expect(r.labels.includes(NO_LABEL)).toBe(false);
    await removing.catch(() => undefined); // finishes or reports ClosedError; must not crash
    expect(() => index.searchSync(data.subarray(0, 16), 1)).toThrow(/closed/i);
  });

  it('many concurrent searches on one index all resolve with the same answers', async () => {
    const index = createIndex({ dim: 8, metric: 'l2', kind: 'hnsw' });
    try {
      const data = Float32Array.from({ length: 3000 * 8 }, (_, i) => Math.sin(i * 0.77) * 3);
      await index.add(labelRange(3000), data);
      const q = data.subarray(0, 50 * 8);
      const want = index.searchSync(q, 5);
      const all = await Promise.all(Array.from({ length: 40 }, () => index.search(q, 5)));
      for (const r of all) expect(r.labels).toEqual(want.labels);
    } finally {
      index.close();
    }
  });
});
