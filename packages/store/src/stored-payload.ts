// Small helpers of Collection: stored payloads (wire form, and the legacy record shape) and allow-list counts.
import { BadFrameError, DEFAULT_LIMITS, EncodedPayload, InvalidArgumentError, type Payload } from '@ragwire/protocol';
import type { DocRecord } from './records';

/** Set bits of an allow-list. */
export function popcount(bits: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bits.length; i++) {
    let b = bits[i]!;
    while (b) {
      b &= b - 1;
      n++;
    }
  }
  return n;
}

/** A payload in its wire form; a shape the wire refuses is the caller's InvalidArgumentError here. */
export function encodePayload(p: Payload, what: string): EncodedPayload {
  try {
    return EncodedPayload.encode(p, DEFAULT_LIMITS, what);
  } catch (error) {
    if (error instanceof BadFrameError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/** The payload of a record written before payloads were kept in their wire form. */
export function legacyPayload(doc: DocRecord): Payload | null {
  if (doc.text === undefined && doc.metadata === undefined) return null;
  const p: Payload = {};
  if (doc.text !== undefined) p.text = doc.text;
  if (doc.metadata !== undefined) p.metadata = doc.metadata;
  return p;
}
