/**
 * Every error ragwire raises, in one file. Users match on `error.code`; the
 * brand (a registered Symbol) makes `isRagwireError` agree across two copies
 * of this package. docs/errors.md lists every code; a test keeps them in sync.
 */

const BRAND = Symbol.for('ragwire.error');

/** Base class: `code` is stable, `message` is for humans. */
export class RagwireError extends Error {
  readonly code: RagwireErrorCode = 'RAGWIRE_ERR';
  /** HTTP status an admin or proxy endpoint answers with for this error. */
  readonly status: number = 500;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class `instanceof` asked about: the base answers by brand, a subclass by prototype.
    // biome-ignore lint/complexity/noThisInStatic: see above
    if (this === RagwireError) return isRagwireError(value);
    // biome-ignore lint/complexity/noThisInStatic: see above
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** True for any ragwire error, even one made by another copy of this package. */
export function isRagwireError(value: unknown): value is RagwireError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** The constructor of one error subclass (its instances carry one fixed code and status). */
export interface RagwireErrorClass {
  new (message: string, options?: { cause?: unknown }): RagwireError;
  readonly prototype: RagwireError;
}

function defineError(code: RagwireErrorCode, status: number, name: string): RagwireErrorClass {
  const cls = class extends RagwireError {
    override readonly code = code;
    override readonly status = status;
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** An argument is out of range or of the wrong type (k <= 0, a negative count, ...). */
export const InvalidArgumentError = defineError('RAGWIRE_ERR_INVALID_ARGUMENT', 400, 'InvalidArgumentError');
/**
 * A configuration field (a server's options, the store's) is unknown, of the wrong type or out of
 * range: an InvalidArgumentError whose `field` names the path (`admission.maxQueue`, `listen[0]`).
 */
export class ConfigError extends InvalidArgumentError {
  constructor(
    readonly where: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${where} "${field}": ${reason}`);
  }
}
/** A vector's length does not match the index or collection dimension. */
export const DimensionMismatchError = defineError('RAGWIRE_ERR_DIM_MISMATCH', 400, 'DimensionMismatchError');
/** A vector holds NaN or +-Infinity. */
export const NonFiniteVectorError = defineError('RAGWIRE_ERR_NON_FINITE', 400, 'NonFiniteVectorError');
/** An option name that no version of ragwire understands (a likely typo). */
export const UnknownOptionError = defineError('RAGWIRE_ERR_UNKNOWN_OPTION', 400, 'UnknownOptionError');
/** A label is added twice without being removed in between. */
export const DuplicateLabelError = defineError('RAGWIRE_ERR_DUPLICATE_LABEL', 409, 'DuplicateLabelError');
/** A snapshot file is truncated, bit-flipped, of another format or of an unsupported version. */
export const CorruptSnapshotError = defineError('RAGWIRE_ERR_CORRUPT_SNAPSHOT', 500, 'CorruptSnapshotError');
/** The operating system refused a file operation (open, write, mmap, rename). */
export const IoError = defineError('RAGWIRE_ERR_IO', 500, 'IoError');
/** An index, collection or store was used after `close()`, or a shard server is draining for shutdown. */
export const ClosedError = defineError('RAGWIRE_ERR_CLOSED', 409, 'ClosedError');
/** A fixed limit was exceeded (max dim, max k, max vectors per index). */
export const LimitExceededError = defineError('RAGWIRE_ERR_LIMIT', 413, 'LimitExceededError');
/** The native engine could not be loaded (not built, or built for another Node ABI). */
export const NativeLoadError = defineError('RAGWIRE_ERR_NATIVE_LOAD', 500, 'NativeLoadError');
/** A bug: an invariant broke. Please report it with the message. */
export const InternalError = defineError('RAGWIRE_ERR_INTERNAL', 500, 'InternalError');
/** A device ('opencl', 'cuda') was asked for that this build or machine does not have. */
export const DeviceUnavailableError = defineError('RAGWIRE_ERR_DEVICE_UNAVAILABLE', 503, 'DeviceUnavailableError');
/** A device could not hold what a search or an index needs (rows, tile or work buffers). */
export const DeviceOutOfMemoryError = defineError('RAGWIRE_ERR_DEVICE_OUT_OF_MEMORY', 507, 'DeviceOutOfMemoryError');
/** A device's kernels failed to build or to run; the message carries the compiler's log. */
export const DeviceKernelError = defineError('RAGWIRE_ERR_DEVICE_KERNEL', 500, 'DeviceKernelError');

// Wire protocol (docs/protocol.md §9): a frame decoder raises the first five, a shard server answers
// with the next four, and the client raises the SHARD_* codes itself.
/** A frame is malformed: inconsistent lengths, bad msgpack, a missing or mistyped field, nonzero padding. */
export const BadFrameError = defineError('RAGWIRE_ERR_BAD_FRAME', 400, 'BadFrameError');
/** A frame's length prefix exceeds the receiver's max frame size; the connection is closed. */
export const FrameTooLargeError = defineError('RAGWIRE_ERR_FRAME_TOO_LARGE', 413, 'FrameTooLargeError');
/** A frame carries a protocol version the receiver does not speak. */
export const UnsupportedVersionError = defineError('RAGWIRE_ERR_UNSUPPORTED_VERSION', 400, 'UnsupportedVersionError');
/** A frame carries a message type code the receiver does not know. */
export const UnknownMessageTypeError = defineError('RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE', 400, 'UnknownMessageTypeError');
/** A metadata filter is malformed (unknown operator, empty range, wrong value type). */
export const InvalidFilterError = defineError('RAGWIRE_ERR_INVALID_FILTER', 400, 'InvalidFilterError');
/** A framework's filter (LangChain, LlamaIndex) uses an operator or combination ragwire filters cannot express; never ignored silently. */
export const UnsupportedFilterError = defineError('RAGWIRE_ERR_UNSUPPORTED_FILTER', 400, 'UnsupportedFilterError');
/** The named collection does not exist. */
export const UnknownCollectionError = defineError('RAGWIRE_ERR_UNKNOWN_COLLECTION', 404, 'UnknownCollectionError');
/** CREATE named a collection that already exists (and `ifNotExists` was not set). */
export const CollectionExistsError = defineError('RAGWIRE_ERR_COLLECTION_EXISTS', 409, 'CollectionExistsError');
/** No token, or a token the server does not know. */
export const UnauthorizedError = defineError('RAGWIRE_ERR_UNAUTHORIZED', 401, 'UnauthorizedError');
/** A valid token without the scope (read, write, admin) this request needs on this collection. */
export const ForbiddenError = defineError('RAGWIRE_ERR_FORBIDDEN', 403, 'ForbiddenError');
/** A shard did not answer within the request's timeout. */
export const ShardTimeoutError = defineError('RAGWIRE_ERR_SHARD_TIMEOUT', 504, 'ShardTimeoutError');
/** A shard cannot be reached (connection refused or lost, every replica down). */
export const ShardUnavailableError = defineError('RAGWIRE_ERR_SHARD_UNAVAILABLE', 503, 'ShardUnavailableError');

// Connection limits (docs/operations.md "Limits and timeouts"): a shard server closes a connection
// with one of these in a connection-level ERROR frame (request_id 0).
/** A connection missed a deadline: no HELLO in time, idle too long, or a frame arriving slower than the floor. */
export const ConnectionTimeoutError = defineError('RAGWIRE_ERR_CONNECTION_TIMEOUT', 408, 'ConnectionTimeoutError');
/** The server holds its cap of connections or of bytes for partial frames; try again later or elsewhere. */
export const OverloadedError = defineError('RAGWIRE_ERR_OVERLOADED', 503, 'OverloadedError');
/** The peer does not read what it is sent: its unsent bytes passed the bound. */
export const SlowConsumerError = defineError('RAGWIRE_ERR_SLOW_CONSUMER', 429, 'SlowConsumerError');

// Fleet (docs/architecture.md "Fleet"): writes through a NATS JetStream log, reads that wait for a log position.
/** The write log (NATS JetStream) cannot be reached, or was lost before acknowledging: the write's outcome is unknown; retry it (the log drops a retried duplicate). */
export const LogUnavailableError = defineError('RAGWIRE_ERR_LOG_UNAVAILABLE', 503, 'LogUnavailableError');
/** The collection's write log is full (its stream's byte or message limit): the write was not appended. */
export const LogFullError = defineError('RAGWIRE_ERR_LOG_FULL', 507, 'LogFullError');
/** A replica's position is older than the first write its log still holds (the stream was trimmed): it must be restored from a snapshot. */
export const LogTrimmedError = defineError('RAGWIRE_ERR_LOG_TRIMMED', 503, 'LogTrimmedError');
/** A replica had not applied the write log up to the query's minSeq within the wait bound; try another replica or later. */
export const ReplicaBehindError = defineError('RAGWIRE_ERR_REPLICA_BEHIND', 503, 'ReplicaBehindError');
/** A request was routed by a shard map older than the shard's: refresh the map and retry. */
export const StaleEpochError = defineError('RAGWIRE_ERR_STALE_EPOCH', 409, 'StaleEpochError');

/** Every error class by code, for the native binding and for decoding ERROR frames. */
export const errorClassesByCode = {
  RAGWIRE_ERR_INVALID_ARGUMENT: InvalidArgumentError,
  RAGWIRE_ERR_DIM_MISMATCH: DimensionMismatchError,
  RAGWIRE_ERR_NON_FINITE: NonFiniteVectorError,
  RAGWIRE_ERR_UNKNOWN_OPTION: UnknownOptionError,
  RAGWIRE_ERR_DUPLICATE_LABEL: DuplicateLabelError,
  RAGWIRE_ERR_CORRUPT_SNAPSHOT: CorruptSnapshotError,
  RAGWIRE_ERR_IO: IoError,
  RAGWIRE_ERR_CLOSED: ClosedError,
  RAGWIRE_ERR_LIMIT: LimitExceededError,
  RAGWIRE_ERR_NATIVE_LOAD: NativeLoadError,
  RAGWIRE_ERR_INTERNAL: InternalError,
  RAGWIRE_ERR_DEVICE_UNAVAILABLE: DeviceUnavailableError,
  RAGWIRE_ERR_DEVICE_OUT_OF_MEMORY: DeviceOutOfMemoryError,
  RAGWIRE_ERR_DEVICE_KERNEL: DeviceKernelError,
  RAGWIRE_ERR_BAD_FRAME: BadFrameError,
  RAGWIRE_ERR_FRAME_TOO_LARGE: FrameTooLargeError,
  RAGWIRE_ERR_UNSUPPORTED_VERSION: UnsupportedVersionError,
  RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE: UnknownMessageTypeError,
  RAGWIRE_ERR_INVALID_FILTER: InvalidFilterError,
  RAGWIRE_ERR_UNSUPPORTED_FILTER: UnsupportedFilterError,
  RAGWIRE_ERR_UNKNOWN_COLLECTION: UnknownCollectionError,
  RAGWIRE_ERR_COLLECTION_EXISTS: CollectionExistsError,
  RAGWIRE_ERR_UNAUTHORIZED: UnauthorizedError,
  RAGWIRE_ERR_FORBIDDEN: ForbiddenError,
  RAGWIRE_ERR_SHARD_TIMEOUT: ShardTimeoutError,
  RAGWIRE_ERR_SHARD_UNAVAILABLE: ShardUnavailableError,
  RAGWIRE_ERR_CONNECTION_TIMEOUT: ConnectionTimeoutError,
  RAGWIRE_ERR_OVERLOADED: OverloadedError,
  RAGWIRE_ERR_SLOW_CONSUMER: SlowConsumerError,
  RAGWIRE_ERR_LOG_UNAVAILABLE: LogUnavailableError,
  RAGWIRE_ERR_LOG_FULL: LogFullError,
  RAGWIRE_ERR_LOG_TRIMMED: LogTrimmedError,
  RAGWIRE_ERR_REPLICA_BEHIND: ReplicaBehindError,
  RAGWIRE_ERR_STALE_EPOCH: StaleEpochError,
} as const;

export type RagwireErrorCode = keyof typeof errorClassesByCode | 'RAGWIRE_ERR';

/**
 * True when `error` is a ragwire error (from any copy of this package) with `code`. Compare codes
 * through this, never as bare strings: a misspelt code fails to compile.
 */
export function hasCode(error: unknown, code: RagwireErrorCode): error is RagwireError {
  return isRagwireError(error) && error.code === code;
}

/** Builds the typed error for a code (an unknown code becomes an InternalError). */
export function errorFromCode(code: string, message: string): RagwireError {
  const cls = (errorClassesByCode as Record<string, new (m: string) => RagwireError>)[code];
  return cls ? new cls(message) : new InternalError(`${code}: ${message}`);
}
