// docs/protocol.md §9.1: the streaming frame decoder (arbitrary chunks in, validated frames out).
import { decodeFrameBody, type DecodedFrame } from './codec';
import { BadFrameError, FrameTooLargeError, OverloadedError, type RagwireError } from './errors';
import { HEADER_BYTES, assertLittleEndianHost, checkHeader, readHeader, type FrameHeader } from './header';
import { resolveLimits, type ProtocolLimits } from './limits';
import { NO_EXTENSIONS } from './message-codec';
import type { Extension } from './trace-context';

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
 * Memory for partial frames, shared by the decoders of one server (docs/protocol.md §9.1). A decoder
 * reserves a frame's declared size before it allocates the frame's buffer and releases it when the
 * frame completes or the decoder is disposed; a refused reservation ends the stream with
 * RAGWIRE_ERR_OVERLOADED.
 */
export interface FrameBudget {
  reserve(bytes: number): boolean;
  release(bytes: number): void;
}

export interface FrameDecoderOptions {
  /** Frames larger than this (and at most limits.maxFrameBytes) end the stream; see `frameLimit`. */
  frameLimit?: number;
  /** Shared bound on memory held for partial frames. Default: none. */
  budget?: FrameBudget;
}

/**
 * Turns a byte stream (socket chunks, split or coalesced anyhow) into decoded frames.
 *
 * A frame that lies whole in one chunk at a 4-byte-aligned offset is decoded in place: its
 * vectors are views on that chunk. Any other frame is assembled into one buffer allocated at its
 * declared size once its header is read and checked, so the memory held for a partial frame is its
 * declared size plus the 12-byte header scratch, however the bytes were split. Decoded messages
 * alias memory the decoder was given or made: do not reuse a chunk after pushing it. A length
 * prefix over the frame limit is refused before any of its body is buffered; a frame with a bad
 * version, type or flags is skipped as it arrives, without buffering it.
 */
export class FrameDecoder {
  readonly limits: ProtocolLimits;
  readonly stats: FrameDecoderStats = { frames: 0, errors: 0, copiedFrames: 0, largestCopyBytes: 0 };
  /**
   * Extensions the connection turned on (docs/protocol.md §5.12): their fields decode from the next
   * frame on, and are unknown fields (BAD_FRAME) before. A server sets it when it answers EXTENSIONS.
   */
  extensions: ReadonlySet<Extension> = NO_EXTENSIONS;
  private readonly budget: FrameBudget | undefined;
  private limit: number;
  /** The 12 header bytes of a frame whose header arrived split. */
  private readonly scratch = new Uint8Array(HEADER_BYTES);
  private scratchBytes = 0;
  /** The frame being assembled, allocated at its declared size, and how much of it has arrived. */
  private frame: Uint8Array | undefined;
  private frameFilled = 0;
  /** Header of the frame being assembled. */
  private header: FrameHeader | undefined;
  /** Bytes of a refused frame still to discard. */
  private skip = 0;
  private stopped = false;

  constructor(limits?: Partial<ProtocolLimits> | ProtocolLimits, options: FrameDecoderOptions = {}) {
    assertLittleEndianHost();
    this.limits = resolveLimits(limits);
    this.budget = options.budget;
    this.limit = this.limits.maxFrameBytes;
    if (options.frameLimit !== undefined) this.frameLimit = options.frameLimit;
  }

  /**
   * The largest frame this stream may carry now, at most limits.maxFrameBytes. A server lowers it
   * for a connection that has not authenticated; a longer frame is refused with
   * RAGWIRE_ERR_FRAME_TOO_LARGE and ends the stream. Applies from the next frame header on.
   */
  get frameLimit(): number {
    return this.limit;
  }

  set frameLimit(bytes: number) {
    this.limit = Math.max(HEADER_BYTES, Math.min(bytes, this.limits.maxFrameBytes));
  }

  /** Bytes received of an incomplete frame (header included; less than its declared size). */
  get bufferedBytes(): number {
    return this.frame !== undefined ? this.frameFilled : this.scratchBytes;
  }

  /** Memory held for an incomplete frame: its declared size once its header is read. */
  get heldBytes(): number {
    return this.frame !== undefined ? this.frame.length : this.scratchBytes;
  }

  /** The declared size of the frame being assembled, once its header is in. */
  get pendingFrameBytes(): number | undefined {
    return this.header?.frameBytes;
  }

  /** True after a fatal error or `finish()`: further input is ignored. */
  get failed(): boolean {
    return this.stopped;
  }

  /** Feeds one chunk; returns the frames (and refusals) it completed, in stream order. */
  push(chunk: Uint8Array): DecodeEvent[] {
    const out: DecodeEvent[] = [];
    this.feed(chunk, (e) => out.push(e));
    return out;
  }

  /**
   * Feeds one chunk and hands each completed frame (or refusal) to `sink` as soon as it is decoded,
   * so the sink may change `frameLimit` before the rest of the chunk is read.
   */
  feed(chunk: Uint8Array, sink: (event: DecodeEvent) => void): void {
    // A refused frame is routine input, not a program error: its error is built without
    // capturing a stack, which would cost more than decoding the frame.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      this.consume(chunk, sink);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  private consume(chunk: Uint8Array, sink: (event: DecodeEvent) => void): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len && !this.stopped) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - pos);
        this.skip -= n;
        pos += n;
      } else if (this.frame !== undefined) {
        const frame = this.frame;
        const take = Math.min(frame.length - this.frameFilled, len - pos);
        frame.set(chunk.subarray(pos, pos + take), this.frameFilled);
        this.frameFilled += take;
        pos += take;
        if (this.frameFilled === frame.length) {
          const h = this.header!;
          this.clear();
          sink(this.decode(frame, h));
        }
      } else if (this.scratchBytes > 0 || len - pos < HEADER_BYTES) {
        // A header split across chunks: gather its 12 bytes first.
        const take = Math.min(HEADER_BYTES - this.scratchBytes, len - pos);
        this.scratch.set(chunk.subarray(pos, pos + take), this.scratchBytes);
        this.scratchBytes += take;
        pos += take;
        if (this.scratchBytes < HEADER_BYTES) break;
        this.scratchBytes = 0;
        const h = readHeader(this.scratch, 0);
        if (this.accept(h, sink)) this.begin(h, this.scratch, sink);
      } else {
        // At a frame boundary with the whole header here: decode in place when the whole frame is too.
        const h = readHeader(chunk, pos);
        if (!this.accept(h, sink)) {
          pos += HEADER_BYTES;
          continue;
        }
        if (len - pos < h.frameBytes) {
          this.begin(h, chunk.subarray(pos, pos + HEADER_BYTES), sink);
          pos += HEADER_BYTES;
          continue;
        }
        const view = chunk.subarray(pos, pos + h.frameBytes);
        pos += h.frameBytes;
        sink(this.decode(view.byteOffset % 4 === 0 ? view : this.copy(view), h));
      }
    }
  }

  /** Starts assembling a frame whose header was accepted: reserves and allocates its declared size. */
  private begin(h: FrameHeader, headerBytes: Uint8Array, sink: (event: DecodeEvent) => void): void {
    if (h.frameBytes === HEADER_BYTES) {
      sink(this.decode(new Uint8Array(headerBytes.subarray(0, HEADER_BYTES)), h));
      return;
    }
    if (this.budget !== undefined && !this.budget.reserve(h.frameBytes)) {
      this.stop(
        sink,
        new OverloadedError(`the server holds its limit of bytes for partial frames; a frame of ${h.frameBytes} bytes cannot be buffered now`),
        h,
      );
      return;
    }
    const frame = new Uint8Array(h.frameBytes);
    frame.set(headerBytes.subarray(0, HEADER_BYTES), 0);
    this.frame = frame;
    this.frameFilled = HEADER_BYTES;
    this.header = h;
    this.stats.copiedFrames++;
    if (h.frameBytes > this.stats.largestCopyBytes) this.stats.largestCopyBytes = h.frameBytes;
  }

  /** Signals the end of the stream: a frame left incomplete is reported as a fatal error. */
  finish(): DecodeEvent[] {
    if (this.stopped) return [];
    this.stopped = true;
    if (this.frame === undefined && this.scratchBytes === 0 && this.skip === 0) return [];
    const h = this.header;
    const message = h
      ? `stream ended inside a frame: ${this.frameFilled} of ${h.frameBytes} bytes`
      : this.skip > 0
        ? `stream ended inside a refused frame (${this.skip} bytes missing)`
        : `stream ended inside a frame header: ${this.scratchBytes} of ${HEADER_BYTES} bytes`;
    this.clear();
    this.scratchBytes = 0;
    this.skip = 0;
    this.stats.errors++;
    return [{ ok: false, error: new BadFrameError(message), fatal: true, requestId: h?.requestId, type: h?.type }];
  }

  /** Drops any partial frame and returns its memory to the budget; further input is ignored. */
  dispose(): void {
    this.stopped = true;
    this.clear();
    this.scratchBytes = 0;
    this.skip = 0;
  }

  /** Checks a header; on refusal reports it and either skips the frame or stops the stream. */
  private accept(h: FrameHeader, sink: (event: DecodeEvent) => void): boolean {
    if (h.frameBytes > this.limit && h.frameBytes <= this.limits.maxFrameBytes) {
      this.stop(
        sink,
        new FrameTooLargeError(`frame of ${h.frameBytes} bytes exceeds this connection's limit of ${this.limit} bytes (a HELLO must come first)`),
        h,
      );
      return false;
    }
    const fault = checkHeader(h, this.limits);
    if (fault === undefined) return true;
    if (fault.fatal) {
      this.stop(sink, fault.error, h);
    } else {
      this.stats.errors++;
      sink({ ok: false, error: fault.error, fatal: false, requestId: h.requestId, type: h.type });
      this.skip = h.frameBytes - HEADER_BYTES;
    }
    return false;
  }

  private stop(sink: (event: DecodeEvent) => void, error: RagwireError, h: FrameHeader): void {
    this.stats.errors++;
    this.stopped = true;
    this.clear();
    sink({ ok: false, error, fatal: true, requestId: h.requestId, type: h.type });
  }

  private decode(frame: Uint8Array, h: FrameHeader): DecodeEvent {
    try {
      const message = decodeFrameBody(frame, h, this.limits, this.extensions);
      this.stats.frames++;
      return { ok: true, requestId: h.requestId, message, frameBytes: h.frameBytes };
    } catch (error) {
      // The frame's boundaries were intact, so the stream goes on.
      this.stats.errors++;
      return { ok: false, error: error as RagwireError, fatal: false, requestId: h.requestId, type: h.type };
    }
  }

  private clear(): void {
    if (this.frame !== undefined) this.budget?.release(this.frame.length);
    this.frame = undefined;
    this.frameFilled = 0;
    this.header = undefined;
  }

  /** A whole frame at an unaligned offset, copied once into a fresh (hence aligned) buffer. */
  private copy(view: Uint8Array): Uint8Array {
    const out = new Uint8Array(view);
    this.stats.copiedFrames++;
    if (out.length > this.stats.largestCopyBytes) this.stats.largestCopyBytes = out.length;
    return out;
  }
}
