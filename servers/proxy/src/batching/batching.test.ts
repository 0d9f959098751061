import { describe, expect, it } from 'vitest';
import { apportion } from './coalescer';
import { estimateTokens } from './embeddings-batcher';
import { KeyRateLimiter } from '../http/rate-limit';
import { ResponseCache } from '../http/response-cache';

describe('apportion', () => {
  it('splits usage in proportion, summing exactly', () => {
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(7, [2, 0, 5]).reduce((a, b) => a + b)).toBe(7);
    expect(apportion(0, [1, 2])).toEqual([0, 0]);
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens([1, 2, 3])).toBe(3);
  });
});

describe('KeyRateLimiter', () => {
  it('allows the burst, then asks to wait', () => {
    const limiter = new KeyRateLimiter();
    expect(limiter.take('k', 2, 2, 0)).toBe(0);
    expect(limiter.take('k', 2, 2, 0)).toBe(0);
    expect(limiter.take('k', 2, 2, 0)).toBe(500);
    expect(limiter.take('k', 2, 2, 500)).toBe(0);
    expect(limiter.take('other', 2, 2, 0)).toBe(0);
  });
});

describe('ResponseCache', () => {
  it('caches deterministic requests only, LRU-bounded', () => {
    expect(ResponseCache.eligible({ temperature: 0 })).toBe(true);
    expect(ResponseCache.eligible({ temperature: 0, stream: true })).toBe(false);
    expect(ResponseCache.eligible({})).toBe(false);
    const cache = new ResponseCache(2, 60_000);
    const k = (n: number) => cache.key('/v1/chat/completions', { n });
    cache.set(k(1), Buffer.from('1'));
    cache.set(k(2), Buffer.from('2'));
    cache.get(k(1));
    cache.set(k(3), Buffer.from('3'));
    expect(cache.get(k(2))).toBeUndefined();
    expect(cache.get(k(1))?.toString()).toBe('1');
  });
});
