// The native data plane's RESULT encoder (src/dataplane/result_encoder.cpp) writes the same bytes as
// @ragwire/protocol's encodeFrame for the same reply: seeded random replies of every shape (ids of
// every string length class, with and without vectors, payloads and `exact`).
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, EncodedPayload, Prng, encodeFrame, hasCode, type ResultReply } from '@ragwire/protocol';
import { native } from '../lib/binding';

interface NativeReply {
  k: number;
  counts: Uint32Array;
  ids: string[];
  scores: Float32Array;
  vectors?: Float32Array;
  vectorDim?: number;
  payloads?: (Uint8Array | null)[];
  exact?: boolean;
}

interface DataplaneAddon {
  resultEncode(requestId: number, reply: NativeReply): Uint8Array | string;
}

const ALPHABET = ['a', 'Z', '0', '-', 'é', '€', '😀', '文'];

function randomId(prng: Prng): string {
  const length = prng.nextInt(8) === 0 ? [255, 256, 300][prng.nextInt(3)]! : [1, 5, 31, 32, 40][prng.nextInt(5)]!;
  let s = '';
  while (s.length < length) s += ALPHABET[prng.nextInt(prng.nextInt(4) === 0 ? ALPHABET.length : 4)]!;
  return s;
}

function randomReply(prng: Prng): { ts: ResultReply; native: NativeReply } {
  const n = 1 + prng.nextInt(prng.nextInt(4) === 0 ? 40 : 5);
  const k = 1 + prng.nextInt(prng.nextInt(4) === 0 ? 40 : 6);
  const counts = Uint32Array.from({ length: n }, () => prng.nextInt(k + 1));
  const total = counts.reduce((a, b) => a + b, 0);
  const ids = Array.from({ length: total }, () => randomId(prng));
  const scores = Float32Array.from({ length: total }, () => prng.nextNormal());
  const ts: ResultReply = { type: 'result', k, counts, ids, scores };
  const out: NativeReply = { k, counts, ids, scores };
  if (prng.nextInt(3) === 0) {
    const dim = 1 + prng.nextInt(5);
    const vectors = Float32Array.from({ length: total * dim }, () => prng.nextNormal());
    ts.vectors = vectors;
    out.vectors = vectors;
    out.vectorDim = total === 0 ? 1 : dim;
  }
  if (prng.nextInt(3) === 0) {
    const payloads = ids.map((id, i) => (i % 3 === 2 ? null : EncodedPayload.encode({ text: `text of ${id}`, metadata: { i, tag: id.slice(0, 3) } })));
    ts.payloads = payloads;
    out.payloads = payloads.map((p) => p?.bytes ?? null);
  }
  if (prng.nextInt(3) === 0) {
    const exact = prng.nextInt(2) === 0;
    ts.exact = exact;
    out.exact = exact;
  }
  return { ts, native: out };
}

describe('native RESULT encoder', () => {
  it('writes the bytes encodeFrame writes, for 1,000 random replies', () => {
    const addon = native() as unknown as DataplaneAddon;
    const prng = new Prng(21);
    let withVectors = 0;
    let withPayloads = 0;
    let withManyIds = 0;
    for (let i = 0; i < 1000; i++) {
      const { ts, native: reply } = randomReply(prng);
      const requestId = 1 + prng.nextInt(0xffff_fffe);
      const expected = encodeFrame(ts, requestId);
      const got = addon.resultEncode(requestId, reply);
      expect(typeof got).not.toBe('string');
      if (!Buffer.from(got as Uint8Array).equals(Buffer.from(expected))) {
        expect(Buffer.from(got as Uint8Array).toString('hex'), `reply ${i}`).toBe(Buffer.from(expected).toString('hex'));
      }
      if (reply.vectors) withVectors++;
      if (reply.payloads) withPayloads++;
      if (reply.ids.length >= 16) withManyIds++;
    }
    expect(withVectors).toBeGreaterThan(100);
    expect(withPayloads).toBeGreaterThan(100);
    expect(withManyIds).toBeGreaterThan(10); // ids in an array16 header
  });

  it('refuses a payload over maxPayloadBytes with the code encodeFrame throws', () => {
    const addon = native() as unknown as DataplaneAddon;
    const big = new EncodedPayload(new Uint8Array(DEFAULT_LIMITS.maxPayloadBytes + 1));
    const reply: ResultReply = { type: 'result', k: 1, counts: Uint32Array.of(1), ids: ['a'], scores: Float32Array.of(1), payloads: [big] };
    let code: string | undefined;
    try {
      encodeFrame(reply, 1);
    } catch (error) {
      if (hasCode(error, 'RAGWIRE_ERR_LIMIT')) code = error.code;
    }
    expect(code).toBe('RAGWIRE_ERR_LIMIT');
    expect(addon.resultEncode(1, { ...reply, payloads: [big.bytes] })).toBe(code);
  });
});
