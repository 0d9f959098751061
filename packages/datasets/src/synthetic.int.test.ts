import { describe, expect, it } from 'vitest';
import { gaussianMixture } from './index';

describe('gaussianMixture', () => {
  const opts = { n: 2000, nQueries: 50, dim: 17, clusters: 20, spread: 1, seed: 5 };

  it('is deterministic per seed', () => {
    const a = gaussianMixture(opts);
    const b = gaussianMixture(opts);
    expect(a.base).toEqual(b.base);
    expect(a.queries).toEqual(b.queries);
    const c = gaussianMixture({ ...opts, seed: 6 });
    expect(c.base).not.toEqual(a.base);
  });

  it('has the requested shape and draws queries apart from the base', () => {
    const s = gaussianMixture(opts);
    expect(s).toMatchObject({ dim: 17, nBase: 2000, nQueries: 50, metric: 'l2' });
    expect(s.base.length).toBe(2000 * 17);
    expect(s.queries.length).toBe(50 * 17);
    expect(Array.from(s.base.subarray(0, 17))).not.toEqual(Array.from(s.queries.subarray(0, 17)));
    expect(s.base.every(Number.isFinite)).toBe(true);
    // Same base whatever the number of queries: the streams are independent.
    expect(gaussianMixture({ ...opts, nQueries: 3 }).base).toEqual(s.base);
  });

  it('is clustered: points lie nearer their own cluster than the spread of the whole set', () => {
    // With spread 0.1 every point sits close to one of the 20 centres.
    const tight = gaussianMixture({ ...opts, spread: 0.1 });
    const wide = gaussianMixture({ ...opts, spread: 1 });
    const nn = (v: Float32Array, i: number): number => {
      let best = Infinity;
      for (let j = 0; j < 2000; j++) {
        if (j === i) continue;
        let d = 0;
        for (let t = 0; t < 17; t++) d += (v[i * 17 + t]! - v[j * 17 + t]!) ** 2;
        best = Math.min(best, d);
      }
      return best;
    };
    expect(nn(tight.base, 0)).toBeLessThan(0.5);
    expect(nn(wide.base, 0)).toBeGreaterThan(nn(tight.base, 0));
  });

  it('reports progress and generates 1M x 128 in seconds', { timeout: 60_000 }, () => {
    let last = 0;
    const t0 = performance.now();
    const big = gaussianMixture({ n: 1_000_000, nQueries: 1000, dim: 128, seed: 1, onProgress: (d) => (last = d) });
    const seconds = (performance.now() - t0) / 1000;
    expect(last).toBe(1_001_000);
    expect(big.base.length).toBe(128_000_000);
    expect(seconds).toBeLessThan(30);
  });

  it('validates its options', () => {
    expect(() => gaussianMixture({ ...opts, n: 0 })).toThrow(/n must be/);
    expect(() => gaussianMixture({ ...opts, dim: 1.5 })).toThrow(/dim must be/);
    expect(() => gaussianMixture({ ...opts, spread: -1 })).toThrow(/spread/);
  });
});
