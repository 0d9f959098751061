import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from './codec';
import { resolveLimits } from './limits';
import type { ResultReply } from './messages';
import { EncodedPayload, isEncodedPayload } from './payload';

const reply = (payloads: ResultReply['payloads']): ResultReply => ({
  type: 'result',
  k: 2,
  counts: Uint32Array.of(2),
  ids: ['a', 'b'],
  scores: Float32Array.of(0.9, 0.5),
  payloads,
});

describe('EncodedPayload', () => {
  it('goes into a RESULT frame byte for byte as a plain payload would, and decodes to the same', () => {
    const plain = [{ text: 'alpha', metadata: { source: 'a.md', page: 3 } }, null];
    const encoded = [EncodedPayload.encode(plain[0]!), null];
    const a = encodeFrame(reply(plain), 1);
    const b = encodeFrame(reply(encoded), 1);
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect((decodeFrame(b).message as ResultReply).payloads).toEqual(plain);
  });

  it('reads as a Payload, decoding on first access', () => {
    const p = EncodedPayload.encode({ text: 'beta', metadata: { tags: ['x'] } });
    expect(p.text).toBe('beta');
    expect(p.metadata).toEqual({ tags: ['x'] });
    expect(p.decoded()).toEqual({ text: 'beta', metadata: { tags: ['x'] } });
  });

  it('refuses at encode time what the wire refuses, and the frame limit still applies to stored bytes', () => {
    expect(() => EncodedPayload.encode({ text: 7 as unknown as string })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_BAD_FRAME' }));
    expect(() => EncodedPayload.encode({ metadata: { when: new Date() } })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_BAD_FRAME' }));
    const big = EncodedPayload.encode({ text: 'x'.repeat(2000) });
    expect(() => encodeFrame(reply([big, null]), 1, resolveLimits({ maxPayloadBytes: 1000 }))).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_LIMIT' }));
  });

  it('is recognised by its brand, not by its class', () => {
    const p = EncodedPayload.encode({ text: 'gamma' });
    expect(isEncodedPayload(p)).toBe(true);
    expect(isEncodedPayload({ bytes: p.bytes })).toBe(false);
    expect(isEncodedPayload({ [Symbol.for('ragwire.EncodedPayload')]: true, bytes: p.bytes })).toBe(true);
  });
});
