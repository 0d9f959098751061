import { describe, expect, it } from 'vitest';
import { resolveSimConfig } from './config';
import { BatchEngine, type FinishReason } from './engine';
import { PrefixCache } from './prefix-cache';
import { tokenize } from './text';

function run(engine: BatchEngine, prompt: string[], outputTokens: number) {
  const started = performance.now();
  const tokens: number[] = [];
  return new Promise<{ tokens: number[]; reason: FinishReason; cached: number; ms: number; firstTokenMs: number }>((resolve) => {
    let firstTokenMs = -1;
    engine.submit({
      promptTokens: prompt,
      outputTokens,
      reserveTokens: prompt.length + outputTokens,
      finishReason: 'length',
      onToken: (p) => {
        if (firstTokenMs < 0) firstTokenMs = performance.now() - started;
        tokens.push(p);
      },
      onFinish: (reason, cached) => resolve({ tokens, reason, cached, ms: performance.now() - started, firstTokenMs }),
    });
  });
}

describe('BatchEngine', () => {
  it('batches continuously: concurrent sequences share steps', async () => {
    const engine = new BatchEngine(resolveSimConfig({ stepBaseMs: 4, stepPerSeqMs: 0, prefillPerTokenMs: 0 }));
    const one = await run(engine, ['a'], 10);
    const many = await Promise.all(Array.from({ length: 8 }, () => run(engine, ['a'], 10)));
    expect(one.tokens).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(one.reason).toBe('length');
    const slowest = Math.max(...many.map((r) => r.ms));
    expect(slowest).toBeLessThan(one.ms * 4); // 8 sequences, far from 8x the time
    expect(engine.snapshot().generationTokens).toBe(90);
  });

  it('makes requests wait when the KV cache is full', async () => {
    const engine = new BatchEngine(resolveSimConfig({ stepBaseMs: 2, kvCapacityTokens: 40, prefillPerTokenMs: 0 }));
    const a = run(engine, Array(10).fill('x'), 20); // reserves 30 of 40 tokens
    const b = run(engine, Array(10).fill('y'), 20); // must wait for a
    expect(engine.snapshot().waiting + engine.snapshot().running).toBe(2);
    const [ra, rb] = await Promise.all([a, b]);
    expect(rb.firstTokenMs).toBeGreaterThanOrEqual(ra.ms - 3);
  });

  it('charges prefill only for uncached prompt blocks', async () => {
    const engine = new BatchEngine(resolveSimConfig({ stepBaseMs: 1, prefillPerTokenMs: 0.2, blockSize: 16 }));
    const prompt = tokenize('word '.repeat(400));
    const cold = await run(engine, prompt, 1);
    const warm = await run(engine, prompt, 1);
    expect(cold.cached).toBe(0);
    expect(warm.cached).toBe(400);
    expect(cold.firstTokenMs).toBeGreaterThan(warm.firstTokenMs + 40); // 80 ms of prefill saved
  });

  it('aborts a running sequence and frees its KV reservation', async () => {
    const engine = new BatchEngine(resolveSimConfig({ stepBaseMs: 2 }));
    let reason: FinishReason | undefined;
    const abort = engine.submit({
      promptTokens: ['a'],
      outputTokens: 1000,
      reserveTokens: 1001,
      finishReason: 'length',
      onToken() {},
      onFinish: (r) => (reason = r),
    });
    await new Promise((r) => setTimeout(r, 10));
    abort();
    expect(reason).toBe('abort');
    expect(engine.snapshot()).toMatchObject({ running: 0, waiting: 0, kvUsage: 0 });
    expect(engine.snapshot().finished.abort).toBe(1);
  });
});

describe('PrefixCache', () => {
  it('matches whole blocks of a shared prefix only', () => {
    const cache = new PrefixCache(1000, 4);
    const base = tokenize('a b c d e f g h i j');
    expect(cache.lookupAndInsert(base)).toBe(0);
    expect(cache.lookupAndInsert(tokenize('a b c d e f g h z z z z'))).toBe(8);
    expect(cache.lookupAndInsert(tokenize('z b c d e f g h'))).toBe(0); // chained: a different first block changes every block
  });

  it('evicts least recently used blocks at capacity', () => {
    const cache = new PrefixCache(8, 4); // two blocks
    const a = tokenize('a a a a');
    cache.lookupAndInsert(a);
    cache.lookupAndInsert(tokenize('b b b b'));
    cache.lookupAndInsert(tokenize('c c c c'));
    expect(cache.lookupAndInsert(a)).toBe(0);
  });
});
