export * from './errors';
export * from './types';
export * from './limits';
export {
  PROTOCOL_VERSION,
  SUPPORTED_VERSIONS,
  HEADER_BYTES,
  MessageType,
  FLAG_RESPONSE,
  readHeader,
  checkHeader,
  type MessageTypeCode,
  type FrameHeader,
  type HeaderFault,
} from './header';
export * from './messages';
export { EncodedPayload, isEncodedPayload } from './payload';
export { validateFilter, isEmptyFilter, MAX_FILTER_STRING_CHARS, type Filter, type Condition, type FilterValue, type RangeBounds } from './filter';
export {
  encodeFrame,
  encodeFrameParts,
  decodeFrame,
  wireTypeOf,
  MESSAGE_NAMES,
  type DecodedFrame,
} from './codec';
export { toErrorReply, fromErrorReply } from './codec-admin';
export { FrameDecoder, type DecodeEvent, type DecodedFrameEvent, type FrameErrorEvent, type FrameDecoderStats, type FrameBudget, type FrameDecoderOptions } from './decoder';
export { fnv1a64, jumpConsistentHash } from './jump-hash';
