// What one connection, and all of them together, may hold of a shard server (docs/operations.md
// "Limits and timeouts"): caps, deadlines and the shared budget for partial frames.
import { ConfigError, type FrameBudget, type ProtocolLimits } from '@ragwire/protocol';

export interface ConnectionLimits {
  /** Open connections at once; one more is answered RAGWIRE_ERR_OVERLOADED and closed. */
  readonly maxConnections: number;
  /** Bytes held for partial frames over all connections; a frame that would pass it closes its connection. */
  readonly maxPartialFrameBytes: number;
  /** Largest frame a connection may send before its HELLO succeeded (servers with tokens). */
  readonly preAuthMaxFrameBytes: number;
  /** A connection to a server with tokens must authenticate within this time. */
  readonly helloTimeoutMs: number;
  /** A connection with nothing in flight and no byte moved either way for this long is closed. */
  readonly idleTimeoutMs: number;
  /** Grace for every frame, on top of its size over `minFrameBytesPerSecond`. */
  readonly frameTimeoutMs: number;
  /** The floor a frame's bytes must arrive at once it has started. */
  readonly minFrameBytesPerSecond: number;
  /** Requests of one connection answered at once; the others wait in its queue (they count as in flight). */
  readonly maxConcurrentRequests: number;
  /** Frame bytes of one connection's requests in flight above which the server stops reading it. At least maxFrameBytes. */
  readonly maxInFlightRequestBytes: number;
  /** Unsent reply bytes above which the server stops reading that connection's requests until they drain. */
  readonly replyHighWaterBytes: number;
  /** Unsent reply bytes above which the connection is closed (RAGWIRE_ERR_SLOW_CONSUMER). At least maxFrameBytes. */
  readonly maxUnsentReplyBytes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The defaults; `maxUnsentReplyBytes` and `maxInFlightRequestBytes` default to twice the frame limit. */
export const DEFAULT_CONNECTION_LIMITS: Omit<ConnectionLimits, 'maxUnsentReplyBytes' | 'maxInFlightRequestBytes'> = Object.freeze({
  maxConnections: 1024,
  maxPartialFrameBytes: 256 * MiB, // 256 MiB
  preAuthMaxFrameBytes: 4 * KiB, // 4 KiB: a HELLO is a few hundred bytes
  helloTimeoutMs: 10_000, // 10 s
  idleTimeoutMs: 300_000, // 5 min
  frameTimeoutMs: 10_000, // 10 s
  minFrameBytesPerSecond: 256 * KiB, // 256 KiB/s
  replyHighWaterBytes: 4 * MiB, // 4 MiB
  maxConcurrentRequests: 16,
});

/** The JSON Schema of the `connectionLimits` option: each a positive integer. */
export const connectionLimitsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(
    [...Object.keys(DEFAULT_CONNECTION_LIMITS), 'maxUnsentReplyBytes', 'maxInFlightRequestBytes'].map((name) => [
      name,
      { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    ]),
  ),
};

/** Defaults overridden by `overrides` (already checked against connectionLimitsSchema), then checked against the frame limit. */
export function resolveConnectionLimits(overrides: Partial<ConnectionLimits> | undefined, protocol: ProtocolLimits, where: string): ConnectionLimits {
  const out: Record<string, number> = {
    ...DEFAULT_CONNECTION_LIMITS,
    maxUnsentReplyBytes: 2 * protocol.maxFrameBytes,
    maxInFlightRequestBytes: 2 * protocol.maxFrameBytes,
    ...overrides,
  };
  for (const name of ['maxUnsentReplyBytes', 'maxInFlightRequestBytes']) {
    if (out[name]! < protocol.maxFrameBytes) {
      throw new ConfigError(
        where,
        `connectionLimits.${name}`,
        `${out[name]} must be at least limits.maxFrameBytes (${protocol.maxFrameBytes}), or one large frame would stall or close its connection`,
      );
    }
  }
  return out as unknown as ConnectionLimits;
}

/** How often the server checks every connection's deadlines: a quarter of the shortest, within [25 ms, 1 s]. */
export function sweepIntervalMs(limits: ConnectionLimits): number {
  const shortest = Math.min(limits.helloTimeoutMs, limits.idleTimeoutMs, limits.frameTimeoutMs);
  return Math.max(25, Math.min(1000, Math.floor(shortest / 4)));
}

/** The server-wide budget for partial frames (one per server, shared by its decoders). */
export class PartialFrameBudget implements FrameBudget {
  private held = 0;
  constructor(
    private readonly limit: number,
    private readonly onChange: (heldBytes: number) => void,
  ) {}

  get heldBytes(): number {
    return this.held;
  }

  reserve(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    this.onChange(this.held);
    return true;
  }

  release(bytes: number): void {
    this.held -= bytes;
    this.onChange(this.held);
  }
}
