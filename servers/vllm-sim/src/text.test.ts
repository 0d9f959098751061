import { describe, expect, it } from 'vitest';
import { resolveSimConfig } from './config';
import { embed, float32ToBase64, generateTokens, tokenize } from './text';

describe('deterministic model stand-ins', () => {
  it('generates the same text for the same prompt, different for another', () => {
    expect(generateTokens('hello', 8)).toEqual(generateTokens('hello', 8));
    expect(generateTokens('hello', 8).join('')).not.toBe(generateTokens('bye', 8).join(''));
    expect(generateTokens('hello', 8, 1).join('')).not.toBe(generateTokens('hello', 8, 0).join(''));
  });

  it('embeds to unit vectors where shared words mean similarity', () => {
    const a = embed('vector search engine', 64);
    const b = embed('vector search', 64);
    const c = embed('banana bread recipe', 64);
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(dot(a, a)).toBeCloseTo(1, 5);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
    expect(Array.from(embed('vector search engine', 64))).toEqual(Array.from(a));
    expect(Buffer.from(float32ToBase64(a), 'base64').byteLength).toBe(256);
  });

  it('tokenizes words and punctuation', () => {
    expect(tokenize('Hello, world!')).toEqual(['Hello', ',', 'world', '!']);
  });
});

describe('resolveSimConfig', () => {
  it('names the bad field', () => {
    expect(() => resolveSimConfig({ stepBaseMs: -1 })).toThrow(/stepBaseMs/);
    expect(() => resolveSimConfig({ replicas: 0 })).toThrow(/replicas/);
    expect(() => resolveSimConfig({ nope: 1 } as never)).toThrow(/nope/);
    expect(Object.isFrozen(resolveSimConfig())).toBe(true);
  });
});
