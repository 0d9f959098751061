// docs/protocol.md §2-§5: encoding a message into a frame and decoding one complete frame.
import { BodyReader, BodyWriter } from './body';
import { errorCodec, snapshotCodec, snapshotReplyCodec, statsCodec, statsReplyCodec } from './codec-admin';
import { createCodec, createReplyCodec, describeCodec, describeReplyCodec, dropCodec, dropReplyCodec, helloCodec, helloReplyCodec } from './codec-collection';
import { extensionsCodec, extensionsReplyCodec } from './codec-extensions';
import { queryCodec, resultCodec } from './codec-query';
import { deleteCodec, deleteReplyCodec, upsertCodec, upsertReplyCodec } from './codec-write';
import { BadFrameError, hasCode, InternalError, InvalidArgumentError, isRagwireError, type RagwireError } from './errors';
import { FLAG_RESPONSE, HEADER_BYTES, MessageType, assertLittleEndianHost, checkHeader, readHeader, type FrameHeader } from './header';
import { DEFAULT_LIMITS, type ProtocolLimits } from './limits';
import { NO_EXTENSIONS, type MessageCodec } from './message-codec';
import type { Message, MessageName, Request, Response } from './messages';
import type { Extension } from './trace-context';

/** Each request with the reply that answers it when it succeeds (any request may also get ERROR). */
const EXCHANGES = [
  [helloCodec, helloReplyCodec],
  [extensionsCodec, extensionsReplyCodec],
  [createCodec, createReplyCodec],
  [dropCodec, dropReplyCodec],
  [describeCodec, describeReplyCodec],
  [upsertCodec, upsertReplyCodec],
  [deleteCodec, deleteReplyCodec],
  [queryCodec, resultCodec],
  [statsCodec, statsReplyCodec],
  [snapshotCodec, snapshotReplyCodec],
] as unknown as readonly (readonly [MessageCodec, MessageCodec])[];

const CODECS: readonly MessageCodec[] = [...EXCHANGES.flat(), errorCodec as unknown as MessageCodec];
const replyOf = new Map<string, Response['type']>(EXCHANGES.map(([request, reply]) => [request.name, reply.name as Response['type']]));

const byName = new Map<string, MessageCodec>(CODECS.map((c) => [c.name, c]));
const byWire = new Map<number, MessageCodec>(CODECS.map((c) => [wireKey(c.code, c.response), c]));

function wireKey(type: number, response: boolean): number {
  return type * 2 + (response ? 1 : 0);
}

/** Every message name the codec knows, requests and replies. */
export const MESSAGE_NAMES: readonly MessageName[] = CODECS.map((c) => c.name);

/** True for a message a client sends; false for a reply (from the codec table). */
export function isRequest(message: Message): message is Request {
  return replyOf.has(message.type);
}

/** The success reply's type for a request type: `result` for `query`, `<type>_ok` for the others. */
export function replyTypeOf(type: Request['type']): Response['type'] {
  return replyOf.get(type)!;
}

/**
 * Every type code with the directions it may travel in (docs/protocol.md §4): [code, as a request,
 * as a reply]. The engine's native header check receives this table at initialisation.
 */
export function wireDirections(): [code: number, request: boolean, response: boolean][] {
  const byCode = new Map<number, [number, boolean, boolean]>();
  for (const c of CODECS) {
    const entry = byCode.get(c.code) ?? [c.code, false, false];
    if (c.response) entry[2] = true;
    else entry[1] = true;
    byCode.set(c.code, entry);
  }
  return [...byCode.values()].sort((a, b) => a[0] - b[0]);
}

/** Wire type code and direction of a message name (docs/protocol.md §4). */
export function wireTypeOf(name: MessageName): { code: number; response: boolean } {
  const codec = byName.get(name);
  if (codec === undefined) throw new InvalidArgumentError(`unknown message type ${JSON.stringify(name)}`);
  return { code: codec.code, response: codec.response };
}

/**
 * Encodes `msg` as one frame, in parts for a gathered write (`socket.cork()` + writes, or writev):
 * their concatenation is the frame. Tail parts are views on the message's typed arrays, so do not
 * modify those until the write completed. Throws InvalidArgumentError (or LimitExceededError,
 * FrameTooLargeError) for a message the receiver would refuse under `limits`.
 */
export function encodeFrameParts(msg: Message, requestId: number, limits: ProtocolLimits = DEFAULT_LIMITS): Uint8Array[] {
  assertLittleEndianHost();
  const codec = typeof msg === 'object' && msg !== null ? byName.get(msg.type) : undefined;
  if (codec === undefined) throw new InvalidArgumentError(`unknown message type ${JSON.stringify((msg as { type?: unknown })?.type)}`);
  if (!Number.isInteger(requestId) || requestId < 0 || requestId > 0xffff_ffff) {
    throw new InvalidArgumentError(`requestId must be an integer in [0, 2^32 - 1], got ${requestId}`);
  }
  if (requestId === 0 && codec.code !== MessageType.ERROR) {
    throw new InvalidArgumentError('requestId 0 is reserved for connection-level ERROR frames');
  }
  const w = new BodyWriter(limits);
  try {
    codec.encode(msg as never, w, limits);
  } catch (error) {
    // A malformed outgoing message is the caller's argument error, not a bad frame on the wire.
    if (hasCode(error, 'RAGWIRE_ERR_BAD_FRAME')) {
      throw new InvalidArgumentError(error.message, { cause: error });
    }
    throw error;
  }
  return w.finish(codec.code, codec.response ? FLAG_RESPONSE : 0, requestId);
}

/** Encodes `msg` as one contiguous frame (one copy of the vectors; see encodeFrameParts to avoid it). */
export function encodeFrame(msg: Message, requestId: number, limits: ProtocolLimits = DEFAULT_LIMITS): Uint8Array {
  const parts = encodeFrameParts(msg, requestId, limits);
  if (parts.length === 1) return parts[0]!;
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * Decodes the body of a frame whose header already passed `checkHeader`. `frame` holds exactly
 * the frame and starts at a 4-byte-aligned offset of its buffer. `extensions`: those the connection
 * turned on (§5.12). Throws a RagwireError.
 */
export function decodeFrameBody(frame: Uint8Array, header: FrameHeader, limits: ProtocolLimits, extensions: ReadonlySet<Extension> = NO_EXTENSIONS): Message {
  const codec = byWire.get(wireKey(header.type, (header.flags & FLAG_RESPONSE) !== 0));
  if (codec === undefined) throw new BadFrameError(`no codec for type 0x${header.type.toString(16)}`);
  try {
    const reader = new BodyReader(frame, limits, { nodes: limits.maxStructuredNodes });
    const msg = codec.decode(reader, limits, extensions);
    reader.done();
    return msg;
  } catch (error) {
    throw asRagwireError(error);
  }
}

/** Anything but a RagwireError escaping a decoder is a bug: report it as INTERNAL, never crash. */
function asRagwireError(error: unknown): RagwireError {
  if (isRagwireError(error)) return error;
  return new InternalError(`frame decoder failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** One complete frame decoded. */
export interface DecodedFrame {
  requestId: number;
  message: Message;
  /** Whole frame in bytes. */
  frameBytes: number;
}

/**
 * Decodes exactly one complete frame (a datagram, a test, a shared-memory slot). Streams use
 * FrameDecoder. A frame at an unaligned offset is copied once so its vectors can be viewed.
 */
export function decodeFrame(bytes: Uint8Array, limits: ProtocolLimits = DEFAULT_LIMITS, extensions: ReadonlySet<Extension> = NO_EXTENSIONS): DecodedFrame {
  assertLittleEndianHost();
  if (bytes.length < HEADER_BYTES) throw new BadFrameError(`a frame needs at least ${HEADER_BYTES} bytes, got ${bytes.length}`);
  const header = readHeader(bytes, 0);
  const fault = checkHeader(header, limits);
  if (fault !== undefined) throw fault.error;
  if (header.frameBytes !== bytes.length) {
    throw new BadFrameError(`length prefix says ${header.frameBytes} bytes, got ${bytes.length}`);
  }
  const frame = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  return { requestId: header.requestId, message: decodeFrameBody(frame, header, limits, extensions), frameBytes: header.frameBytes };
}
