// docs/protocol.md §9.1: the streaming frame decoder (arbitrary chunks in, validated frames out).
import { decodeFrameBody, type DecodedFrame } from './codec';
import { BadFrameError, type RagwireError } from './errors';
import { HEADER_BYTES, assertLittleEndianHost, checkHeader, readHeader, type FrameHeader } from './header';
import { resolveLimits, type ProtocolLimits } from './limits';

export interface DecodedFrameEvent extends DecodedFrame {
  ok: true;
}

/** A frame the decoder refused. */
export interface FrameErrorEvent {
  ok: false;
  error: RagwireError;
  /**
   * True when the stream cannot continue (the length prefix is unusable or the stream ended
   * inside a frame): answer with an ERROR if you like, then close the connection. False when the
   * bad frame was skipped whole and the next frame is decoded normally.
   */
  fatal: boolean;
  /** The refused frame's request_id, when its header was read (for the ERROR reply). */
  requestId: number | undefined;
  /** The refused frame's type code, when its header was read. */
  type: number | undefined;
}

export type DecodeEvent = DecodedFrameEvent | FrameErrorEvent;

export interface FrameDecoderStats {
  frames: number;
  errors: number;
  /** Frames copied once (split across chunks, or at an unaligned offset); the rest are views. */
  copiedFrames: number;
  /** Largest single buffer the decoder allocated (never more than limits.maxFrameBytes). */
  largestCopyBytes: number;
}

/**
 * Turns a byte stream (socket chunks, split or coalesced anyhow) into decoded frames.
 *
 * A frame that lies whole in one chunk at a 4-byte-aligned offset is decoded in place: its
 * vectors are views on that chunk. Other frames are assembled into one fresh buffer. Either way
 * decoded messages alias memory the decoder was given or made: do not reuse a chunk after pushing
 * it. A length prefix over maxFrameBytes is refused before any of its body is buffered; a frame
 * with a bad version, type or flags is skipped as it arrives, without buffering it.
 */
export class FrameDecoder {
  readonly limits: ProtocolLimits;
  readonly stats: FrameDecoderStats = { frames: 0, errors: 0, copiedFrames: 0, largestCopyBytes: 0 };
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Header of the frame being buffered, once its first 12 bytes are in. */
  private header: FrameHeader | undefined;
  /** Bytes of a refused frame still to discard. */
  private skip = 0;
  private stopped = false;

  constructor(limits?: Partial<ProtocolLimits> | ProtocolLimits) {
    assertLittleEndianHost();
    this.limits = resolveLimits(limits);
  }

  /** Bytes held for an incomplete frame (at most maxFrameBytes - 1). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** True after a fatal error or `finish()`: further input is ignored. */
  get failed(): boolean {
    return this.stopped;
  }

  /** Feeds one chunk; returns the frames (and refusals) it completed, in stream order. */
  push(chunk: Uint8Array): DecodeEvent[] {
    // A refused frame is routine input, not a program error: its error is built without
    // capturing a stack, which would cost more than decoding the frame.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return this.consume(chunk);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  private consume(chunk: Uint8Array): DecodeEvent[] {
    const out: DecodeEvent[] = [];
    const len = chunk.length;
    let pos = 0;
    while (pos < len && !this.stopped) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - pos);
        this.skip -= n;
        pos += n;
      } else if (this.pendingBytes === 0) {
        // At a frame boundary inside this chunk: decode in place when the whole frame is here.
        if (len - pos < HEADER_BYTES) {
          this.stash(chunk.subarray(pos));
          break;
        }
        const h = readHeader(chunk, pos);
        if (!this.accept(h, out)) {
          pos += HEADER_BYTES;
          continue;
        }
        if (len - pos < h.frameBytes) {
          this.header = h;
          this.stash(chunk.subarray(pos));
          break;
        }
        const view = chunk.subarray(pos, pos + h.frameBytes);
        pos += h.frameBytes;
        out.push(this.decode(view.byteOffset % 4 === 0 ? view : this.copy([view], h.frameBytes), h));
      } else if (this.header === undefined) {
        // A header split across chunks: gather its 12 bytes first.
        const take = Math.min(HEADER_BYTES - this.pendingBytes, len - pos);
        this.stash(chunk.subarray(pos, pos + take));
        pos += take;
        if (this.pendingBytes < HEADER_BYTES) break;
        const h = readHeader(this.copy(this.pending, HEADER_BYTES, false), 0);
        if (!this.accept(h, out)) {
          this.clear();
          continue;
        }
        this.header = h;
        if (h.frameBytes === HEADER_BYTES) this.complete(out);
      } else {
        const take = Math.min(this.header.frameBytes - this.pendingBytes, len - pos);
        this.stash(chunk.subarray(pos, pos + take));
        pos += take;
        if (this.pendingBytes === this.header.frameBytes) this.complete(out);
      }
    }
    return out;
  }

  /** Signals the end of the stream: a frame left incomplete is reported as a fatal error. */
  finish(): DecodeEvent[] {
    if (this.stopped) return [];
    this.stopped = true;
    if (this.pendingBytes === 0 && this.skip === 0) return [];
    const h = this.header;
    const message = h
      ? `stream ended inside a frame: ${this.pendingBytes} of ${h.frameBytes} bytes`
      : this.skip > 0
        ? `stream ended inside a refused frame (${this.skip} bytes missing)`
        : `stream ended inside a frame header: ${this.pendingBytes} of ${HEADER_BYTES} bytes`;
    this.clear();
    this.skip = 0;
    this.stats.errors++;
    return [{ ok: false, error: new BadFrameError(message), fatal: true, requestId: h?.requestId, type: h?.type }];
  }

  /** Checks a header; on refusal reports it and either skips the frame or stops the stream. */
  private accept(h: FrameHeader, out: DecodeEvent[]): boolean {
    const fault = checkHeader(h, this.limits);
    if (fault === undefined) return true;
    this.stats.errors++;
    out.push({ ok: false, error: fault.error, fatal: fault.fatal, requestId: h.requestId, type: h.type });
    if (fault.fatal) {
      this.stopped = true;
      this.clear();
    } else {
      this.skip = h.frameBytes - HEADER_BYTES;
    }
    return false;
  }

  private complete(out: DecodeEvent[]): void {
    const h = this.header!;
    const frame = this.copy(this.pending, h.frameBytes);
    this.clear();
    out.push(this.decode(frame, h));
  }

  private decode(frame: Uint8Array, h: FrameHeader): DecodeEvent {
    try {
      const message = decodeFrameBody(frame, h, this.limits);
      this.stats.frames++;
      return { ok: true, requestId: h.requestId, message, frameBytes: h.frameBytes };
    } catch (error) {
      // The frame's boundaries were intact, so the stream goes on.
      this.stats.errors++;
      return { ok: false, error: error as RagwireError, fatal: false, requestId: h.requestId, type: h.type };
    }
  }

  private stash(part: Uint8Array): void {
    if (part.length === 0) return;
    this.pending.push(part);
    this.pendingBytes += part.length;
  }

  private clear(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.header = undefined;
  }

  /** The first `bytes` bytes of `parts` in one fresh (hence aligned) buffer. */
  private copy(parts: readonly Uint8Array[], bytes: number, count = true): Uint8Array {
    const out = new Uint8Array(bytes);
    let pos = 0;
    for (const p of parts) {
      const n = Math.min(p.length, bytes - pos);
      out.set(n === p.length ? p : p.subarray(0, n), pos);
      pos += n;
      if (pos === bytes) break;
    }
    if (count) {
      this.stats.copiedFrames++;
      if (bytes > this.stats.largestCopyBytes) this.stats.largestCopyBytes = bytes;
    }
    return out;
  }
}
