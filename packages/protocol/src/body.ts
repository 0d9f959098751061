// docs/protocol.md §3: body = u32 meta_length | meta (msgpack) | zero padding to 4 | binary tail.
import { BadFrameError, FrameTooLargeError } from './errors';
import { HEADER_BYTES, align4, writeHeader } from './header';
import type { ProtocolLimits } from './limits';
import type { Payload } from './messages';
import { packValue, unpackChecked, type NodeBudget } from './msgpack';
import { decodePayloadSection, encodePayloadSection } from './payload';

/** Offset of the meta section from the frame start (header + u32 meta_length). */
export const META_OFFSET = HEADER_BYTES + 4;

/** Largest frame a u32 length prefix can describe, rounded down to a multiple of 4. */
const MAX_ENCODABLE_FRAME = 0xffff_fffc + 4;

function bytesOf(a: Float32Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Collects one frame's parts: a head (header, meta, padding) and tail sections that are views on
 * the caller's typed arrays (no copy) or small encoded blocks. Every tail part is a multiple of 4.
 */
export class BodyWriter {
  private metaBytes: Uint8Array = new Uint8Array(0);
  private readonly tail: Uint8Array[] = [];
  private tailBytes = 0;

  constructor(private readonly limits: ProtocolLimits) {}

  meta(value: object): void {
    this.metaBytes = packValue(value);
  }

  f32(values: Float32Array): void {
    this.push(bytesOf(values));
  }

  u32(values: Uint32Array): void {
    this.push(bytesOf(values));
  }

  payloads(list: readonly (Payload | null | undefined)[], what: string): void {
    this.push(encodePayloadSection(list, this.limits, what));
  }

  private push(part: Uint8Array): void {
    if (part.length > 0) this.tail.push(part);
    this.tailBytes += part.length;
  }

  /** The frame as parts for a gathered write; their concatenation is the frame. */
  finish(type: number, flags: number, requestId: number): Uint8Array[] {
    const headBytes = align4(META_OFFSET + this.metaBytes.length);
    const frameBytes = headBytes + this.tailBytes;
    const max = Math.min(this.limits.maxFrameBytes, MAX_ENCODABLE_FRAME);
    if (frameBytes > max) {
      throw new FrameTooLargeError(`frame of ${frameBytes} bytes exceeds maxFrameBytes = ${max}; split the batch`);
    }
    const head = new Uint8Array(headBytes);
    writeHeader(head, frameBytes, type, flags, requestId);
    new DataView(head.buffer).setUint32(HEADER_BYTES, this.metaBytes.length, true);
    head.set(this.metaBytes, META_OFFSET);
    return [head, ...this.tail];
  }
}

/**
 * Reads one frame's body. The frame must start at a 4-byte-aligned offset of its ArrayBuffer
 * (the decoder guarantees it), so tail sections become typed-array views without a copy.
 */
export class BodyReader {
  readonly meta: unknown;
  private pos: number;

  constructor(
    private readonly frame: Uint8Array,
    private readonly limits: ProtocolLimits,
    private readonly budget: NodeBudget,
  ) {
    if (frame.length < META_OFFSET) throw new BadFrameError(`frame of ${frame.length} bytes has no meta_length field`);
    const metaLength = new DataView(frame.buffer, frame.byteOffset + HEADER_BYTES, 4).getUint32(0, true);
    const metaEnd = META_OFFSET + metaLength;
    if (metaLength > frame.length - META_OFFSET) {
      throw new BadFrameError(`meta_length ${metaLength} exceeds the frame (${frame.length - META_OFFSET} bytes left)`);
    }
    this.meta = unpackChecked(frame, META_OFFSET, metaEnd, budget, limits.maxStructuredDepth, 'meta');
    this.pos = this.padding(metaEnd, 'meta');
  }

  private padding(from: number, what: string): number {
    const to = align4(from);
    if (to > this.frame.length) throw new BadFrameError(`${what} padding runs past the frame`);
    for (let p = from; p < to; p++) {
      if (this.frame[p] !== 0) throw new BadFrameError(`nonzero padding byte after ${what} at ${p}`);
    }
    return to;
  }

  private take(bytes: number, what: string): number {
    const left = this.frame.length - this.pos;
    if (bytes > left) throw new BadFrameError(`${what} needs ${bytes} bytes, the frame has ${left} left`);
    const at = this.pos;
    this.pos += bytes;
    return at;
  }

  /** A view of `count` float32 values at the current position. */
  f32(count: number, what: string): Float32Array {
    const at = this.take(count * 4, what);
    return new Float32Array(this.frame.buffer, this.frame.byteOffset + at, count);
  }

  /** A view of `count` u32 values at the current position. */
  u32(count: number, what: string): Uint32Array {
    const at = this.take(count * 4, what);
    return new Uint32Array(this.frame.buffer, this.frame.byteOffset + at, count);
  }

  payloads(count: number, what: string): (Payload | null)[] {
    const { payloads, end } = decodePayloadSection(this.frame, this.pos, count, this.limits, this.budget, what);
    this.pos = end;
    return payloads;
  }

  /** Refuses bytes after the last section. */
  done(): void {
    const left = this.frame.length - this.pos;
    if (left !== 0) throw new BadFrameError(`${left} unexpected bytes after the last section`);
  }
}
