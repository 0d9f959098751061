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
export {
  validateFilter,
  isEmptyFilter,
  MAX_FILTER_KEY_BYTES,
  MAX_FILTER_STRING_CHARS,
  type Filter,
  type Condition,
  type FilterValue,
  type RangeBounds,
} from './filter';
export {
  encodeFrame,
  encodeFrameParts,
  decodeFrame,
  wireDirections,
  wireTypeOf,
  isRequest,
  replyTypeOf,
  MESSAGE_NAMES,
  type DecodedFrame,
} from './codec';
export { toErrorReply, fromErrorReply } from './codec-admin';
export { FrameWriter, type CorkableStream } from './frame-writer';
export {
  FrameDecoder,
  type DecodeEvent,
  type DecodedFrameEvent,
  type FrameErrorEvent,
  type FrameDecoderStats,
  type FrameBudget,
  type FrameDecoderOptions,
} from './decoder';
export {
  DEFAULT_TEXT_SETTINGS,
  TEXT_LANGUAGES,
  FUSION_METHODS,
  DEFAULT_RRF_K,
  DEFAULT_ALPHA,
  DEFAULT_PREFETCH,
  TEXT_STATS_DOCS,
  TEXT_STATS_TOKENS,
  TEXT_STATS_DF_PREFIX,
  textStatsEntries,
  sumTextStats,
  resolveFusion,
  fuseRanked,
  byScoreThenId,
  branchDepth,
  type TextSettings,
  type TextLanguage,
  type SparseVector,
  type Fusion,
  type FusionMethod,
  type TextStats,
  type RankedList,
} from './search';
export { fnv1a64, jumpConsistentHash } from './jump-hash';
export { configSchema, parseConfig, type ConfigSchema } from './config';
export { Prng } from './prng';
export {
  EXTENSIONS,
  TRACEPARENT_BYTES,
  parseTraceparent,
  formatTraceparent,
  type Extension,
  type TraceContext,
} from './trace-context';
