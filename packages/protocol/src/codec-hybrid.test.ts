// docs/protocol.md §5.7.1, §5.5, §5.9: the hybrid fields round-trip, and a frame without them (an old
// client's) decodes exactly as before they existed.
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from './codec';
import { HEADER_BYTES, MessageType, writeHeader } from './header';
import { DEFAULT_LIMITS, resolveLimits } from './limits';
import type { QueryRequest, UpsertRequest } from './messages';
import { packValue } from './msgpack';

/** The wire's code for what an encoder refused (it wraps a malformed message as the caller's InvalidArgumentError). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    const e = error as { code: string; cause?: { code?: string } };
    return e.cause?.code ?? e.code;
  }
  return 'accepted';
}

const roundTrip = <T>(msg: T, limits = DEFAULT_LIMITS): T => decodeFrame(encodeFrame(msg as never, 7, limits), limits).message as T;

/** A QUERY frame built by hand the way a client built it before the hybrid fields existed. */
function oldQueryFrame(): Uint8Array {
  const meta = packValue({ collection: 'docs', dim: 2, n: 1, k: 3, options: { withPayload: true } });
  const head = HEADER_BYTES + 4 + meta.length;
  const padded = (head + 3) & ~3;
  const frame = new Uint8Array(padded + 8);
  writeHeader(frame, frame.length, MessageType.QUERY, 0, 9);
  new DataView(frame.buffer).setUint32(HEADER_BYTES, meta.length, true);
  frame.set(meta, HEADER_BYTES + 4);
  new Float32Array(frame.buffer, padded, 2).set([0.5, -1]);
  return frame;
}

describe('hybrid QUERY, sparse UPSERT and STATS with text', () => {
  it('decodes an old client QUERY frame exactly as before', () => {
    const msg = decodeFrame(oldQueryFrame()).message as QueryRequest;
    expect(Object.keys(msg).sort()).toEqual(['collection', 'dim', 'k', 'options', 'type', 'vectors']);
    expect([...msg.vectors]).toEqual([0.5, -1]);
  });

  it('round-trips text, sparse, prefetch, fusion and textStats; dim 0 means no dense part', () => {
    const q: QueryRequest = {
      type: 'query',
      collection: 'docs',
      dim: 0,
      k: 5,
      vectors: new Float32Array(0),
      text: ['vitamin b12', 'homocysteine'],
      sparse: [
        { indices: Uint32Array.of(1, 5), values: Float32Array.of(0.5, 2) },
        { indices: new Uint32Array(0), values: new Float32Array(0) },
      ],
      prefetch: 40,
      fusion: { method: 'dbsf' },
      textStats: { docs: 10, tokens: 90, df: { vitamin: 2 } },
    };
    const back = roundTrip(q);
    expect(back.text).toEqual(q.text);
    expect([...back.sparse![0]!.indices]).toEqual([1, 5]);
    expect([...back.sparse![0]!.values]).toEqual([0.5, 2]);
    expect(back.sparse![1]!.indices.length).toBe(0);
    expect(back).toMatchObject({ dim: 0, k: 5, prefetch: 40, fusion: { method: 'dbsf' }, textStats: { docs: 10, tokens: 90, df: { vitamin: 2 } } });
  });

  it('refuses dim 0 without text or sparse, a text count other than n, and texts past the limit', () => {
    const base = { type: 'query', collection: 'docs', k: 5 } as const;
    expect(refusal(() => encodeFrame({ ...base, dim: 0, vectors: new Float32Array(0) }, 1))).toBe('RAGWIRE_ERR_BAD_FRAME');
    expect(refusal(() => encodeFrame({ ...base, dim: 2, vectors: new Float32Array(4), text: ['one'] }, 1))).toBe('RAGWIRE_ERR_BAD_FRAME');
    const small = resolveLimits({ maxQueryTextBytes: 8 });
    expect(refusal(() => encodeFrame({ ...base, dim: 0, vectors: new Float32Array(0), text: ['far too long a text'] }, 1, small))).toBe('RAGWIRE_ERR_LIMIT');
    expect(refusal(() => encodeFrame({ ...base, dim: 0, vectors: new Float32Array(0), text: ['x'], fusion: { method: 'max' as 'rrf' } }, 1))).toBe(
      'RAGWIRE_ERR_BAD_FRAME',
    );
  });

  it('round-trips sparse vectors on UPSERT, null entries included, before the payloads', () => {
    const u: UpsertRequest = {
      type: 'upsert',
      collection: 'docs',
      dim: 1,
      ids: ['a', 'b', 'c'],
      vectors: Float32Array.of(1, 2, 3),
      sparse: [{ indices: Uint32Array.of(3), values: Float32Array.of(1.5) }, null, { indices: Uint32Array.of(0, 9), values: Float32Array.of(-1, 1) }],
      payloads: [{ text: 'a' }, null, { text: 'c' }],
    };
    const back = roundTrip(u);
    expect(back.sparse![1]).toBeNull();
    expect([...back.sparse![2]!.indices]).toEqual([0, 9]);
    expect(back.payloads![2]!.text).toBe('c');
  });

  it('carries STATS text only with a collection', () => {
    expect(roundTrip({ type: 'stats', collection: 'docs', text: ['a b'] })).toEqual({ type: 'stats', collection: 'docs', text: ['a b'] });
    expect(refusal(() => encodeFrame({ type: 'stats', text: ['a'] }, 1))).toBe('RAGWIRE_ERR_BAD_FRAME');
  });
});
