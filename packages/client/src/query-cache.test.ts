import { describe, expect, it } from 'vitest';
import { QueryCache, queryCacheKey } from './query-cache';

describe('QueryCache', () => {
  it('evicts the least recently used entry', () => {
    const c = new QueryCache<number>({ maxEntries: 2 });
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
    expect(c.hits).toBe(3);
    expect(c.misses).toBe(1);
    c.clear();
    expect(c.size).toBe(0);
  });

  it('refuses a bad size', () => {
    expect(() => new QueryCache({ maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('queryCacheKey', () => {
  const v = new Float32Array([1, 2, 3, 4]);
  it('is equal for equal queries and differs on every part', () => {
    const base = queryCacheKey('docs', v, 10);
    expect(queryCacheKey('docs', new Float32Array([1, 2, 3, 4]), 10)).toBe(base);
    expect(queryCacheKey('other', v, 10)).not.toBe(base);
    expect(queryCacheKey('docs', new Float32Array([1, 2, 3, 4.0001]), 10)).not.toBe(base);
    expect(queryCacheKey('docs', v, 11)).not.toBe(base);
    expect(queryCacheKey('docs', v, 10, { must: [{ key: 'a', eq: 1 }] })).not.toBe(base);
    expect(queryCacheKey('docs', v, 10, undefined, { exact: true })).not.toBe(base);
  });
  it('hashes only the view, not the whole buffer', () => {
    const big = new Float32Array([9, 1, 2, 3, 4, 9]);
    expect(queryCacheKey('docs', big.subarray(1, 5), 10)).toBe(queryCacheKey('docs', v, 10));
  });
});
