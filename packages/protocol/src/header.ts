// docs/protocol.md §2: the 12-byte frame header, message type codes and flags.
import { BadFrameError, FrameTooLargeError, InternalError, UnknownMessageTypeError, UnsupportedVersionError, type RagwireError } from './errors';
import type { ProtocolLimits } from './limits';

/** The protocol version this codec speaks (the header's `version` byte). */
export const PROTOCOL_VERSION = 1;
/** Versions this codec can decode. */
export const SUPPORTED_VERSIONS: readonly number[] = [1];

/** `u32 length | u8 version | u8 type | u16 flags | u32 request_id`. */
export const HEADER_BYTES = 12;
/** Bytes before the body that the length prefix does not count. */
export const LENGTH_PREFIX_BYTES = 4;

/** Type codes (docs/protocol.md §4). */
export const MessageType = Object.freeze({
  HELLO: 0x01,
  CREATE: 0x02,
  DROP: 0x03,
  DESCRIBE: 0x04,
  EXTENSIONS: 0x05,
  UPSERT: 0x10,
  DELETE: 0x11,
  QUERY: 0x20,
  RESULT: 0x21,
  STATS: 0x30,
  SNAPSHOT: 0x31,
  ERROR: 0x7f,
});
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

/** Set on every frame a server sends in answer to a request. Other bits are reserved and must be 0. */
export const FLAG_RESPONSE = 0x0001;
const KNOWN_FLAGS = FLAG_RESPONSE;

/** How a type code may be used: only as a request, only as a response, or both. */
const DIRECTIONS: ReadonlyMap<number, 'request' | 'response' | 'both'> = new Map([
  [MessageType.HELLO, 'both'],
  [MessageType.CREATE, 'both'],
  [MessageType.DROP, 'both'],
  [MessageType.DESCRIBE, 'both'],
  [MessageType.EXTENSIONS, 'both'],
  [MessageType.UPSERT, 'both'],
  [MessageType.DELETE, 'both'],
  [MessageType.QUERY, 'request'],
  [MessageType.RESULT, 'response'],
  [MessageType.STATS, 'both'],
  [MessageType.SNAPSHOT, 'both'],
  [MessageType.ERROR, 'response'],
]);

export interface FrameHeader {
  /** Whole frame in bytes, length prefix included (`length + 4`). */
  readonly frameBytes: number;
  readonly version: number;
  readonly type: number;
  readonly flags: number;
  readonly requestId: number;
}

/** A header that failed validation: `fatal` when the length prefix itself cannot be trusted. */
export interface HeaderFault {
  readonly error: RagwireError;
  readonly fatal: boolean;
  readonly header: FrameHeader;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Vectors travel as raw little-endian float32 viewed in place, so a big-endian host cannot take part. */
export function assertLittleEndianHost(): void {
  if (!LITTLE_ENDIAN_HOST) throw new InternalError('ragwire frames need a little-endian host');
}

/** Rounds up to the next multiple of 4 (docs/protocol.md §3.2). */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Reads the 12 header bytes at `offset` (the caller guarantees they are there). */
export function readHeader(bytes: Uint8Array, offset: number): FrameHeader {
  const b = bytes;
  const o = offset;
  const length = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  return {
    frameBytes: length + LENGTH_PREFIX_BYTES,
    version: b[o + 4]!,
    type: b[o + 5]!,
    flags: b[o + 6]! | (b[o + 7]! << 8),
    requestId: (b[o + 8]! | (b[o + 9]! << 8) | (b[o + 10]! << 16) | (b[o + 11]! << 24)) >>> 0,
  };
}

/** Writes a header at the start of `target` (docs/protocol.md §2). */
export function writeHeader(target: Uint8Array, frameBytes: number, type: number, flags: number, requestId: number): void {
  const view = new DataView(target.buffer, target.byteOffset, HEADER_BYTES);
  view.setUint32(0, frameBytes - LENGTH_PREFIX_BYTES, true);
  view.setUint8(4, PROTOCOL_VERSION);
  view.setUint8(5, type);
  view.setUint16(6, flags, true);
  view.setUint32(8, requestId, true);
}

/**
 * Validates a header against the limits (docs/protocol.md §9.1). Returns undefined when the
 * frame may be buffered and decoded; otherwise the error and whether the stream must close.
 */
export function checkHeader(h: FrameHeader, limits: ProtocolLimits): HeaderFault | undefined {
  const fault = (error: RagwireError, fatal = false): HeaderFault => ({ error, fatal, header: h });
  if (h.frameBytes > limits.maxFrameBytes) {
    return fault(new FrameTooLargeError(`frame of ${h.frameBytes} bytes exceeds the limit of ${limits.maxFrameBytes} bytes`), true);
  }
  if (h.frameBytes < HEADER_BYTES) {
    return fault(new BadFrameError(`length prefix ${h.frameBytes - LENGTH_PREFIX_BYTES} is shorter than the header`), true);
  }
  if (h.frameBytes % 4 !== 0) {
    return fault(new BadFrameError(`frame of ${h.frameBytes} bytes is not padded to a multiple of 4`));
  }
  if (!SUPPORTED_VERSIONS.includes(h.version)) {
    return fault(new UnsupportedVersionError(`protocol version ${h.version} is not supported (this peer speaks ${SUPPORTED_VERSIONS.join(', ')})`));
  }
  const direction = DIRECTIONS.get(h.type);
  if (direction === undefined) {
    return fault(new UnknownMessageTypeError(`unknown message type 0x${h.type.toString(16).padStart(2, '0')}`));
  }
  if ((h.flags & ~KNOWN_FLAGS) !== 0) {
    return fault(new BadFrameError(`reserved flag bits set: 0x${h.flags.toString(16)}`));
  }
  const response = (h.flags & FLAG_RESPONSE) !== 0;
  if ((direction === 'request' && response) || (direction === 'response' && !response)) {
    return fault(new BadFrameError(`message type 0x${h.type.toString(16)} cannot be a ${response ? 'response' : 'request'}`));
  }
  if (h.requestId === 0 && h.type !== MessageType.ERROR) {
    return fault(new BadFrameError('request_id 0 is reserved for connection-level ERROR frames'));
  }
  return undefined;
}
