// The seam between a ShardClient and a way of reaching a shard (docs/protocol.md §2.2).
import { InvalidArgumentError, type ProtocolLimits, type Request, type Response } from '@ragwire/protocol';

/** What a transport reports to its owner. */
export interface TransportHandlers {
  /**
   * The reply to request `requestId`: a decoded response frame (an ERROR frame is a `type: 'error'`
   * message), or a typed error raised without a frame (the embedded transport, an undecodable
   * reply). `requestId` 0 is a connection-level ERROR that belongs to no request.
   */
  reply(requestId: number, reply: Response | Error): void;
  /** The connection is gone; `error` when it broke rather than closed. Called at most once. */
  closed(error?: Error): void;
}

/**
 * One connection to one shard. Requests are pipelined: `send` never waits for a reply, and replies
 * may come back in any order, matched by request id. Implementations: `tcp://` and `unix://`
 * (frames over node:net), `embedded://` (an in-process store, no socket, no encoding). A new way
 * of reaching a shard (`ucx://`) is one more implementation, registered with `registerTransport`.
 */
export interface Transport {
  /** The URL this transport was created for. */
  readonly url: string;
  /** Opens the connection. Rejects with ShardUnavailableError when the shard cannot be reached. */
  connect(handlers: TransportHandlers): Promise<void>;
  /**
   * Sends one request. Throws synchronously (InvalidArgumentError, LimitExceededError,
   * FrameTooLargeError, SlowConsumerError) when the request cannot be sent; a failure after that arrives through
   * `handlers.reply`. Typed arrays of the request must stay untouched until the reply arrives.
   */
  send(requestId: number, request: Request): void;
  /** Closes the connection (`handlers.closed` follows) and releases what it holds. Idempotent. */
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Connection timeout. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Limits the reply decoder enforces. Default: the protocol's (docs/protocol.md §8). */
  limits?: Partial<ProtocolLimits>;
  /**
   * Request bytes written and not yet taken by the shard above which `send` throws
   * RAGWIRE_ERR_SLOW_CONSUMER instead of buffering more. Default twice the frame limit (128 MiB).
   */
  maxUnsentBytes?: number;
}

export type TransportFactory = (url: URL, raw: string, options: TransportOptions) => Transport;

const factories = new Map<string, TransportFactory>();

/** Makes `scheme://` URLs use `factory` (e.g. `registerTransport('ucx', ...)`). Replaces an earlier one. */
export function registerTransport(scheme: string, factory: TransportFactory): void {
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new InvalidArgumentError(`transport scheme must be lowercase letters, got ${JSON.stringify(scheme)}`);
  factories.set(`${scheme}:`, factory);
}

/** A transport for `url` (`tcp://host:port`, `unix:///path.sock`, `embedded:///data/dir`, ...). */
export function createTransport(url: string, options: TransportOptions = {}): Transport {
  const parsed = parseShardUrl(url);
  const factory = factories.get(parsed.protocol);
  if (factory === undefined) {
    const known = [...factories.keys()].map((p) => `${p}//`).join(', ');
    throw new InvalidArgumentError(`no transport for ${JSON.stringify(url)}; known: ${known}`);
  }
  return factory(parsed, url, options);
}

/** Parses a shard URL, with a message that names it when it is not one. */
export function parseShardUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new InvalidArgumentError(`not a shard URL: ${JSON.stringify(url)} (expected tcp://host:port, unix:///path or embedded:///dir)`);
  }
}
