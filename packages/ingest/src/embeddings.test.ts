import { describe, expect, it } from 'vitest';
import { decodeEmbedding } from './embeddings';

describe('decodeEmbedding', () => {
  it('reads base64 little-endian float32, as OpenAI and vLLM send encoding_format "base64"', () => {
    const v = Float32Array.from([0.5, -1.25, 3e-8, 42]);
    const b64 = Buffer.from(v.buffer).toString('base64');
    const out = decodeEmbedding(b64);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(Array.from(v));
    expect(out.byteOffset).toBe(0);
  });

  it('takes a float list too (a server that ignores encoding_format)', () => {
    expect(Array.from(decodeEmbedding([1, 2.5]))).toEqual([1, 2.5]);
  });

  it('refuses base64 whose length is not whole float32s', () => {
    expect(() => decodeEmbedding(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/not float32 data/);
  });
});
