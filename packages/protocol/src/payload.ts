// docs/protocol.md §7: document payloads and the payload section that carries them.
import { BadFrameError, LimitExceededError } from './errors';
import { isPlainObject } from './fields';
import { align4 } from './header';
import { DEFAULT_LIMITS, type ProtocolLimits } from './limits';
import type { Payload } from './messages';
import { packValue, skimMsgpack, unpackChecked, type NodeBudget } from './msgpack';

function checkPayloadShape(value: unknown, what: string): Payload {
  if (!isPlainObject(value)) throw new BadFrameError(`${what} must be a map { text?, metadata? } or null`);
  const out: Payload = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (key === 'text') {
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') throw new BadFrameError(`${what}.text must be a string`);
      out.text = v;
    } else if (key === 'metadata') {
      if (v === undefined || v === null) continue;
      if (!isPlainObject(v)) throw new BadFrameError(`${what}.metadata must be a map`);
      out.metadata = v;
    } else {
      throw new BadFrameError(`${what} has unknown field ${JSON.stringify(key)} (expected text, metadata)`);
    }
  }
  return out;
}

const ENCODED_PAYLOAD = Symbol.for('ragwire.EncodedPayload');

/**
 * A payload already in its wire form (docs/protocol.md §7: the msgpack map `{ text?, metadata? }`),
 * as a store keeps it: the encoder copies its bytes into a frame without unpacking and packing them
 * again. Read as a Payload, `text` and `metadata` are decoded on first access.
 */
export class EncodedPayload implements Payload {
  /** The brand `isEncodedPayload` checks: two copies of this package still recognise each other's. */
  readonly [ENCODED_PAYLOAD] = true;
  #decoded: Payload | undefined;

  /** `bytes` must come from `EncodedPayload.encode` (or a payload section): they are sent unchecked. */
  constructor(readonly bytes: Uint8Array) {}

  /** Checks a payload's shape and limits and packs it, as the encoder would. */
  static encode(payload: Payload, limits: ProtocolLimits = DEFAULT_LIMITS, what = 'payload'): EncodedPayload {
    return new EncodedPayload(packPayload(payload, limits, { nodes: limits.maxStructuredNodes }, what));
  }

  get text(): string | undefined {
    return this.decoded().text;
  }

  get metadata(): Record<string, unknown> | undefined {
    return this.decoded().metadata;
  }

  /** The payload as a plain object. */
  decoded(): Payload {
    if (this.#decoded === undefined) {
      const limits = DEFAULT_LIMITS;
      const value = unpackChecked(this.bytes, 0, this.bytes.length, { nodes: limits.maxStructuredNodes }, limits.maxStructuredDepth, 'payload');
      this.#decoded = checkPayloadShape(value, 'payload');
    }
    return this.#decoded;
  }
}

/** True for an EncodedPayload, from this copy of the package or another. */
export function isEncodedPayload(value: unknown): value is EncodedPayload {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ENCODED_PAYLOAD] === true;
}

function packPayload(payload: Payload, limits: ProtocolLimits, budget: NodeBudget, what: string): Uint8Array {
  const blob = packValue(checkPayloadShape(payload, what));
  if (blob.length > limits.maxPayloadBytes) {
    throw new LimitExceededError(`${what} encodes to ${blob.length} bytes, over maxPayloadBytes = ${limits.maxPayloadBytes}`);
  }
  // Refuse what the receiver would refuse (Date, Map with non-string keys, binary, NaN, ...).
  skimMsgpack(blob, budget, limits.maxStructuredDepth, what);
  return blob;
}

/**
 * Encodes n payloads as a payload section (docs/protocol.md §3.3): `u32 lengths[n]`, then the
 * msgpack blobs back to back, then zero padding to a multiple of 4. Length 0 means no payload.
 */
export function encodePayloadSection(payloads: readonly (Payload | null | undefined)[], limits: ProtocolLimits, what: string): Uint8Array {
  const blobs: (Uint8Array | undefined)[] = new Array(payloads.length);
  const budget: NodeBudget = { nodes: limits.maxStructuredNodes };
  let blobBytes = 0;
  for (let i = 0; i < payloads.length; i++) {
    const p = payloads[i];
    if (p === null || p === undefined) continue;
    let blob: Uint8Array;
    if (isEncodedPayload(p)) {
      blob = p.bytes; // already checked when it was encoded
      if (blob.length > limits.maxPayloadBytes)
        throw new LimitExceededError(`${what}[${i}] is ${blob.length} bytes, over maxPayloadBytes = ${limits.maxPayloadBytes}`);
    } else {
      blob = packPayload(p, limits, budget, `${what}[${i}]`);
    }
    blobs[i] = blob;
    blobBytes += blob.length;
  }
  const tableBytes = payloads.length * 4;
  const out = new Uint8Array(align4(tableBytes + blobBytes));
  const table = new DataView(out.buffer, 0, tableBytes);
  let pos = tableBytes;
  for (let i = 0; i < blobs.length; i++) {
    const blob = blobs[i];
    if (blob === undefined) continue;
    table.setUint32(i * 4, blob.length, true);
    out.set(blob, pos);
    pos += blob.length;
  }
  return out;
}

/**
 * Decodes a payload section of `count` entries starting at `pos`; returns the payloads and the
 * position after the section's padding. Sizes are checked against the table before any decoding.
 */
export function decodePayloadSection(
  frame: Uint8Array,
  pos: number,
  count: number,
  limits: ProtocolLimits,
  budget: NodeBudget,
  what: string,
): { payloads: (Payload | null)[]; end: number } {
  const end = frame.length;
  const tableBytes = count * 4;
  if (tableBytes > end - pos) throw new BadFrameError(`${what}: length table of ${count} entries exceeds the frame`);
  const table = new DataView(frame.buffer, frame.byteOffset + pos, tableBytes);
  let blobPos = pos + tableBytes;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const length = table.getUint32(i * 4, true);
    if (length > limits.maxPayloadBytes) {
      throw new LimitExceededError(`${what}[${i}] is ${length} bytes, over maxPayloadBytes = ${limits.maxPayloadBytes}`);
    }
    total += length;
  }
  if (total > end - blobPos) throw new BadFrameError(`${what}: ${total} payload bytes exceed the frame`);
  const payloads: (Payload | null)[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const length = table.getUint32(i * 4, true);
    if (length === 0) {
      payloads[i] = null;
      continue;
    }
    const value = unpackChecked(frame, blobPos, blobPos + length, budget, limits.maxStructuredDepth, `${what}[${i}]`);
    payloads[i] = checkPayloadShape(value, `${what}[${i}]`);
    blobPos += length;
  }
  const padded = align4(blobPos);
  if (padded > end) throw new BadFrameError(`${what}: padding runs past the frame`);
  for (let p = blobPos; p < padded; p++) {
    if (frame[p] !== 0) throw new BadFrameError(`${what}: nonzero padding byte at ${p}`);
  }
  return { payloads, end: padded };
}
