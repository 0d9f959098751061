// docs/protocol.md §8: the limits every decoder enforces before it allocates.
import { InvalidArgumentError, LimitExceededError, UnknownOptionError } from './errors';

/** What one frame may carry. A decoder rejects anything past these before it allocates for it. */
export interface ProtocolLimits {
  /** Whole frame, length prefix included. Checked on the length prefix alone: the body is never buffered. */
  readonly maxFrameBytes: number;
  /** Results per query (k). */
  readonly maxK: number;
  /** Query vectors in one QUERY frame. */
  readonly maxQueryBatch: number;
  /** Documents in one UPSERT frame, ids in one DELETE frame. */
  readonly maxWriteBatch: number;
  /** Vector dimension. */
  readonly maxDim: number;
  /** One document's encoded payload (msgpack of text + metadata). */
  readonly maxPayloadBytes: number;
  /** One document id, UTF-8. */
  readonly maxIdBytes: number;
  /** Conditions in one filter, all clauses together. */
  readonly maxFilterConditions: number;
  /** Values in one `in` condition. */
  readonly maxFilterValues: number;
  /** msgpack values (map, array, string, number, ...) in one frame, all sections together. */
  readonly maxStructuredNodes: number;
  /** Nesting depth of any msgpack value (a scalar at top level is depth 1). */
  readonly maxStructuredDepth: number;
  /** Upper bound for `efSearch`, as a query option and as an index parameter (the store and the engine use this one cap). */
  readonly maxEfSearch: number;
  /** One query text (QUERY `text`), UTF-8. */
  readonly maxQueryTextBytes: number;
  /** Nonzero entries of one sparse vector (UPSERT and QUERY `sparse`). */
  readonly maxSparseEntries: number;
}

const MiB = 1024 * 1024;

/** The documented defaults (docs/protocol.md §8). Frozen; override per decoder with `resolveLimits`. */
export const DEFAULT_LIMITS: ProtocolLimits = Object.freeze({
  maxFrameBytes: 64 * MiB, // 64 MiB
  maxK: 10_000,
  maxQueryBatch: 4096,
  maxWriteBatch: 16_384,
  maxDim: 65_536,
  maxPayloadBytes: 1 * MiB, // 1 MiB per document
  maxIdBytes: 512,
  maxFilterConditions: 1024,
  maxFilterValues: 4096,
  maxStructuredNodes: 2_097_152, // 2 Mi values: bounds the JS heap a frame can decode into
  maxStructuredDepth: 32,
  maxEfSearch: 10_000,
  maxQueryTextBytes: 65_536, // 64 KiB per query text
  maxSparseEntries: 65_536,
});

/**
 * What the native data plane's TCP loop (native/src/dataplane/tcp_loop.cpp, native+tcp://) reads and
 * holds per connection: passed to it when a listener opens, never written in C++.
 */
export const NATIVE_LOOP_LIMITS = Object.freeze({
  /** Bytes handed to JavaScript and not yet read, per connection, beyond which the loop stops reading it (also its read size). */
  readWindowBytes: 64 * 1024, // 64 KiB
  /** The largest QUERY frame the loop keeps whole to answer natively; a larger one goes to JavaScript, whose partial-frame budget and deadlines then apply. */
  keepFrameBytes: 64 * 1024, // 64 KiB
  /** A connection closed with replies still queued keeps sending them this long at most. */
  closeLingerMs: 10_000, // 10 s
});

/**
 * The bounds (seconds) of a shard server's request-latency histogram, for the requests JavaScript
 * answers and the queries the native data plane answers alike: passed to the native loops when a
 * listener opens (they time each answer into these buckets), never written in C++.
 */
export const REQUEST_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
]);

/**
 * Index parameters a collection or an engine index may be created with, [min, max] inclusive. Above
 * the max is RAGWIRE_ERR_LIMIT, below the min or not an integer RAGWIRE_ERR_INVALID_ARGUMENT, from
 * every layer alike (the engine, the store, a shard server).
 */
export const INDEX_PARAM_RANGES: Readonly<Record<'M' | 'efConstruction' | 'efSearch' | 'seed' | 'rerankFactor', readonly [number, number]>> = Object.freeze({
  M: [2, 256],
  efConstruction: [1, 10_000],
  efSearch: [1, DEFAULT_LIMITS.maxEfSearch],
  seed: [0, 0xffff_ffff],
  rerankFactor: [1, 10_000],
});

/** Hard ceilings: a u32 length prefix, and sizes a JS typed array can always hold. */
const CEILINGS: Partial<Record<keyof ProtocolLimits, number>> = {
  maxFrameBytes: 0xffff_fffc,
  maxDim: 1 << 24,
  maxStructuredDepth: 256,
};

/** Smallest frame limit that still admits every fixed-size part of a frame. */
const MIN_FRAME_BYTES = 64;

/** What each limit may be set to, [min, max] inclusive integers (a server's `limits` option, `resolveLimits`). */
export const PROTOCOL_LIMIT_RANGES: Readonly<Record<keyof ProtocolLimits, readonly [number, number]>> = Object.freeze(
  Object.fromEntries(
    (Object.keys(DEFAULT_LIMITS) as (keyof ProtocolLimits)[]).map((name) => [
      name,
      Object.freeze([name === 'maxFrameBytes' ? MIN_FRAME_BYTES : 1, CEILINGS[name] ?? Number.MAX_SAFE_INTEGER] as const),
    ]),
  ) as Record<keyof ProtocolLimits, readonly [number, number]>,
);

/**
 * Defaults overridden by `overrides`, validated and frozen. Unknown names throw
 * UnknownOptionError; a value outside PROTOCOL_LIMIT_RANGES throws InvalidArgumentError.
 */
export function resolveLimits(overrides?: Partial<ProtocolLimits>): ProtocolLimits {
  if (overrides === undefined) return DEFAULT_LIMITS;
  if (resolved.has(overrides)) return overrides as ProtocolLimits;
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(overrides)) {
    const range = Object.hasOwn(PROTOCOL_LIMIT_RANGES, name) ? PROTOCOL_LIMIT_RANGES[name as keyof ProtocolLimits] : undefined;
    if (!range) throw new UnknownOptionError(`unknown protocol limit "${name}"`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
      throw new InvalidArgumentError(`limit ${name} must be an integer in [${range[0]}, ${range[1]}], got ${String(value)}`);
    }
    out[name] = value;
  }
  const limits = Object.freeze(out) as unknown as ProtocolLimits;
  resolved.add(limits);
  return limits;
}

/** Limits objects this module validated and froze: passing one again skips the checks. */
const resolved = new WeakSet<object>([DEFAULT_LIMITS]);

/**
 * `value` checked against an inclusive range of this file (`[1, DEFAULT_LIMITS.maxK]`, a row of
 * INDEX_PARAM_RANGES): not an integer or below the minimum is InvalidArgumentError, above the
 * maximum LimitExceededError, as every layer answers.
 */
export function checkIntInRange(name: string, value: unknown, [min, max]: readonly [number, number]): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer of at least ${min}, got ${String(value)}`);
  }
  if (value > max) throw new LimitExceededError(`${name} must be at most ${max}, got ${value}`);
  return value;
}
