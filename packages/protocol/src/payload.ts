// docs/protocol.md §7: document payloads and the payload section that carries them.
import { BadFrameError, LimitExceededError } from './errors';
import { isPlainObject } from './fields';
import { align4 } from './header';
import type { ProtocolLimits } from './limits';
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
    const shaped = checkPayloadShape(p, `${what}[${i}]`);
    const blob = packValue(shaped);
    if (blob.length > limits.maxPayloadBytes) {
      throw new LimitExceededError(`${what}[${i}] encodes to ${blob.length} bytes, over maxPayloadBytes = ${limits.maxPayloadBytes}`);
    }
    // Refuse what the receiver would refuse (Date, Map with non-string keys, binary, NaN, ...).
    skimMsgpack(blob, budget, limits.maxStructuredDepth, `${what}[${i}]`);
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
