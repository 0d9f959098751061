import { describe, expect, it } from 'vitest';
import { MESSAGE_NAMES, decodeFrame, encodeFrame, encodeFrameParts, wireTypeOf } from './codec';
import { fromErrorReply, toErrorReply } from './codec-admin';
import { UnknownCollectionError } from './errors';
import { FLAG_RESPONSE, HEADER_BYTES, MessageType, readHeader } from './header';
import { DEFAULT_LIMITS, resolveLimits } from './limits';
import type { Message, QueryRequest, ResultReply, UpsertRequest } from './messages';
import { sampleMessages } from './testing/sample-messages';
import { thrownCode } from './testing/thrown-code';

describe('encodeFrame / decodeFrame', () => {
  it('round-trips every message type, requests and replies', () => {
    const samples = sampleMessages();
    expect(new Set(samples.map((m) => m.type))).toEqual(new Set(MESSAGE_NAMES));
    samples.forEach((msg, i) => {
      const requestId = msg.type === 'error' ? 0 : 1000 + i;
      const frame = encodeFrame(msg, requestId);
      const decoded = decodeFrame(frame);
      expect(decoded.requestId).toBe(requestId);
      expect(decoded.frameBytes).toBe(frame.length);
      expect(decoded.message).toEqual(msg);
    });
  });

  it('writes the documented header: length, version 1, type code, response flag, request id', () => {
    for (const msg of sampleMessages()) {
      const frame = encodeFrame(msg, 0xfedcba98);
      const h = readHeader(frame, 0);
      const wire = wireTypeOf(msg.type);
      expect(h.frameBytes).toBe(frame.length);
      expect(frame.length % 4).toBe(0);
      expect(h.version).toBe(1);
      expect(h.type).toBe(wire.code);
      expect(h.flags).toBe(wire.response ? FLAG_RESPONSE : 0);
      expect(h.requestId).toBe(0xfedcba98);
    }
    expect(wireTypeOf('result')).toEqual({ code: MessageType.RESULT, response: true });
    expect(wireTypeOf('query')).toEqual({ code: MessageType.QUERY, response: false });
  });

  it('places the tail at a 4-byte-aligned offset after zero padding', () => {
    // Collection names of 1..4 bytes move the meta end through every residue mod 4.
    for (const collection of ['a', 'ab', 'abc', 'abcd']) {
      const msg: QueryRequest = { type: 'query', collection, dim: 3, k: 1, vectors: new Float32Array([1, 2, 3]) };
      const frame = encodeFrame(msg, 1);
      const metaLength = new DataView(frame.buffer).getUint32(HEADER_BYTES, true);
      const tail = (16 + metaLength + 3) & ~3;
      expect(frame.length).toBe(tail + 12);
      expect([...frame.subarray(16 + metaLength, tail)].every((b) => b === 0)).toBe(true);
      expect([...new Float32Array(frame.buffer, tail, 3)]).toEqual([1, 2, 3]);
    }
  });

  it("carries the hits' vectors in RESULT when the query asked withVectors", () => {
    const query = decodeFrame(
      encodeFrame({ type: 'query', collection: 'c', dim: 2, k: 2, vectors: new Float32Array([1, 0]), options: { withVectors: true } }, 1),
    );
    expect((query.message as QueryRequest).options).toEqual({ withVectors: true });
    const vectors = new Float32Array([1, 2, 3, 4]);
    const frame = encodeFrame(
      { type: 'result', k: 2, counts: new Uint32Array([2]), ids: ['a', 'b'], scores: new Float32Array([0.9, 0.1]), vectors, payloads: [null, { text: 't' }] },
      2,
    );
    const r = decodeFrame(frame).message as ResultReply;
    expect([...r.vectors!]).toEqual([1, 2, 3, 4]);
    expect(r.payloads).toEqual([null, { text: 't' }]);
    expect(() =>
      encodeFrame(
        { type: 'result', k: 2, counts: new Uint32Array([2]), ids: ['a', 'b'], scores: new Float32Array([0.9, 0.1]), vectors: new Float32Array(3) },
        3,
      ),
    ).toThrow(/not a multiple/);
  });

  it('decodes vectors as views on the received buffer, not copies', () => {
    const vectors = new Float32Array(64 * 16).map((_, i) => i / 7);
    const frame = encodeFrame({ type: 'upsert', collection: 'c', dim: 16, ids: Array.from({ length: 64 }, (_, i) => `id${i}`), vectors }, 5);
    const msg = decodeFrame(frame).message as UpsertRequest;
    expect(msg.vectors.buffer).toBe(frame.buffer);
    expect(msg.vectors.byteOffset % 4).toBe(0);
    expect(msg.vectors).toEqual(vectors);
    frame[frame.length - 1]! ^= 0x40; // the view sees the received bytes themselves
    expect(msg.vectors[msg.vectors.length - 1]).not.toBe(vectors[vectors.length - 1]);

    const result = encodeFrame({ type: 'result', k: 1, counts: new Uint32Array([1]), ids: ['a'], scores: new Float32Array([0.5]) }, 9);
    const r = decodeFrame(result).message as ResultReply;
    expect(r.counts.buffer).toBe(result.buffer);
    expect(r.scores.buffer).toBe(result.buffer);
  });

  it('copies once when the frame sits at an unaligned offset', () => {
    const frame = encodeFrame(sampleMessages().find((m) => m.type === 'query')!, 3);
    const shifted = new Uint8Array(frame.length + 1).subarray(1);
    shifted.set(frame);
    const msg = decodeFrame(shifted).message as QueryRequest;
    expect(msg.vectors.buffer).not.toBe(shifted.buffer);
    expect(msg.vectors.byteOffset % 4).toBe(0);
  });

  it('encodeFrameParts hands the vectors over without copying them', () => {
    const vectors = new Float32Array(32).fill(0.25);
    const msg: QueryRequest = { type: 'query', collection: 'c', dim: 8, k: 4, vectors };
    const parts = encodeFrameParts(msg, 11);
    expect(parts.some((p) => p.buffer === vectors.buffer)).toBe(true);
    expect(parts.every((p) => p.length % 4 === 0)).toBe(true);
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let pos = 0;
    for (const p of parts) {
      joined.set(p, pos);
      pos += p.length;
    }
    expect(joined).toEqual(encodeFrame(msg, 11));
  });

  it('lets request ids round-trip so replies can come back in any order', () => {
    const ids = [1, 2, 3, 0xffffffff];
    const replies = ids.map((id) => encodeFrame({ type: 'upsert_ok', upserted: id, seq: id }, id)).reverse();
    const seen = replies.map((f) => decodeFrame(f));
    expect(seen.map((d) => d.requestId)).toEqual([...ids].reverse());
    for (const d of seen) expect(d.message).toEqual({ type: 'upsert_ok', upserted: d.requestId, seq: d.requestId });
  });
});

describe('encoder validation', () => {
  const q = (over: Partial<QueryRequest>): Message => ({ type: 'query', collection: 'c', dim: 2, k: 1, vectors: new Float32Array(2), ...over });

  it('refuses malformed messages as argument errors before anything is sent', () => {
    expect(thrownCode(() => encodeFrame(q({ k: 0 }), 1))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(thrownCode(() => encodeFrame(q({ vectors: new Float32Array(3) }), 1))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(thrownCode(() => encodeFrame(q({ collection: '../etc' }), 1))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(thrownCode(() => encodeFrame({ ...q({}), extra: 1 } as unknown as Message, 1))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(thrownCode(() => encodeFrame({ type: 'nope' } as unknown as Message, 1))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(thrownCode(() => encodeFrame(q({}), 0))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(thrownCode(() => encodeFrame(q({}), 2 ** 32))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(thrownCode(() => encodeFrame({ type: 'delete', collection: 'c' }, 1))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(
      thrownCode(() =>
        encodeFrame(
          { type: 'upsert', collection: 'c', dim: 1, ids: ['a'], vectors: new Float32Array(1), payloads: [{ text: 'x', when: new Date() } as never] },
          1,
        ),
      ),
    ).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(
      thrownCode(() =>
        encodeFrame({ type: 'upsert', collection: 'c', dim: 1, ids: ['a'], vectors: new Float32Array(1), payloads: [{ metadata: { at: new Date() } }] }, 1),
      ),
    ).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
  });

  it('applies the limits, and the filter and option checks', () => {
    expect(thrownCode(() => encodeFrame(q({ k: DEFAULT_LIMITS.maxK + 1 }), 1))).toBe('RAGWIRE_ERR_LIMIT');
    expect(thrownCode(() => encodeFrame(q({ filter: { must: [{ key: 'a', gt: 1 } as never] } }), 1))).toBe('RAGWIRE_ERR_INVALID_FILTER');
    expect(thrownCode(() => encodeFrame(q({ options: { efsearch: 10 } as never }), 1))).toBe('RAGWIRE_ERR_UNKNOWN_OPTION');
    const small = resolveLimits({ maxFrameBytes: 1024 });
    expect(thrownCode(() => encodeFrame(q({ dim: 512, vectors: new Float32Array(512) }), 1, small))).toBe('RAGWIRE_ERR_FRAME_TOO_LARGE');
    const big = { text: 'x'.repeat(DEFAULT_LIMITS.maxPayloadBytes) };
    expect(thrownCode(() => encodeFrame({ type: 'upsert', collection: 'c', dim: 1, ids: ['a'], vectors: new Float32Array(1), payloads: [big] }, 1))).toBe(
      'RAGWIRE_ERR_LIMIT',
    );
  });
});

describe('ERROR replies', () => {
  it('carry a typed error across the wire', () => {
    const reply = toErrorReply(new UnknownCollectionError('collection "x" does not exist'));
    const back = fromErrorReply(decodeFrame(encodeFrame(reply, 77)).message as typeof reply);
    expect(back).toBeInstanceOf(UnknownCollectionError);
    expect(back.code).toBe('RAGWIRE_ERR_UNKNOWN_COLLECTION');
    expect(back.message).toBe('collection "x" does not exist');
  });

  it('turn foreign errors into INTERNAL and unknown codes into InternalError', () => {
    expect(toErrorReply(new TypeError('boom'))).toEqual({ type: 'error', code: 'RAGWIRE_ERR_INTERNAL', message: 'boom' });
    const e = fromErrorReply({ type: 'error', code: 'RAGWIRE_ERR_FROM_THE_FUTURE', message: 'm' });
    expect(e.code).toBe('RAGWIRE_ERR_INTERNAL');
    expect(e.message).toContain('RAGWIRE_ERR_FROM_THE_FUTURE');
  });
});
