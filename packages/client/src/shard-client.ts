// One logical shard server: a small pool of pipelined connections, HELLO, timeouts, reconnect with backoff.
import {
  hasCode,
  DEFAULT_LIMITS,
  SUPPORTED_VERSIONS,
  ShardUnavailableError,
  errorFromCode,
  isRagwireError,
  type RagwireError,
  type RagwireErrorCode,
  type CreateRequest,
  type DeleteRequest,
  type Extension,
  type ProtocolLimits,
  type QueryRequest,
  type ReplyFor,
  type Request,
  type UpsertReply,
  type UpsertRequest,
} from '@ragwire/protocol';
import { Backoff, type BackoffOptions } from './backoff';
import { PipelinedConnection } from './connection';
import { createTransport, type Transport, type TransportOptions } from './transport';
import './socket-transport';
import './embedded-transport';
import './ucx-transport';

export interface ShardClientOptions {
  /** Bearer token sent in HELLO (docs/protocol.md §5.1). */
  token?: string;
  /** Connections kept to the server; requests go to the least busy. Default 1 (each is pipelined). */
  connections?: number;
  /** Per-request timeout. Default 10000 ms; 0 disables it. */
  timeoutMs?: number;
  /** Connection (and HELLO) timeout. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect delays after a failure. Default 50 ms doubling to 5 s, jittered. */
  backoff?: BackoffOptions;
  /** Limits for decoding replies. Default: the protocol's. */
  limits?: Partial<ProtocolLimits>;
  /** Request bytes a server may leave unread per connection before requests fail with RAGWIRE_ERR_SLOW_CONSUMER. Default 128 MiB. */
  maxUnsentBytes?: number;
  /** Name sent in HELLO for the server's logs. */
  clientName?: string;
  /**
   * Extensions to ask each connection's server for after HELLO (docs/protocol.md §5.12): `trace` lets a
   * query's `trace` reach servers that trace. A server without them answers with none. Default: none asked.
   */
  extensions?: Extension[];
  /** Makes the transport for the URL (tests inject fakes here). Default: by URL scheme. */
  transport?: (url: string, options: TransportOptions) => Transport;
}

export interface RequestOptions {
  /** Overrides the client's timeout for this request (ms). */
  timeoutMs?: number;
}

interface Slot {
  conn: PipelinedConnection | undefined;
  opening: Promise<PipelinedConnection> | undefined;
  backoff: Backoff;
  lastError: Error | undefined;
}

/** Upserts in flight at once when one call is split into several frames. */
const UPSERT_WINDOW = 4;

/** HELLO refusals that another attempt with the same options cannot change: the client stops connecting. */
const FINAL_REFUSALS: ReadonlySet<RagwireErrorCode> = new Set(['RAGWIRE_ERR_UNAUTHORIZED', 'RAGWIRE_ERR_UNSUPPORTED_VERSION']);

/**
 * A client for one shard server (or one embedded store). Requests are pipelined over a small pool
 * of connections opened lazily; a lost connection is reopened on the next request once its jittered
 * backoff has passed, and until then requests fail fast with ShardUnavailableError. An ERROR reply
 * rejects with the typed error of its code (docs/errors.md).
 */
export class ShardClient {
  readonly url: string;
  private readonly options: ShardClientOptions;
  private readonly slots: Slot[];
  private readonly timeoutMs: number;
  private closed = false;
  /** The server refused this client's HELLO for good (a bad token): every request fails with it, no reconnect. */
  private refusal: RagwireError | undefined;
  /** Limits the server advertised in hello_ok, over the protocol defaults. */
  serverLimits: ProtocolLimits = DEFAULT_LIMITS;

  constructor(url: string, options: ShardClientOptions = {}) {
    this.url = url;
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const n = options.connections ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`connections must be an integer in 1..64, got ${n}`);
    this.slots = Array.from({ length: n }, () => ({ conn: undefined, opening: undefined, backoff: new Backoff(options.backoff), lastError: undefined }));
    // Fail at construction on an unusable URL rather than at the first request.
    if (!options.transport) createTransportCheck(url);
  }

  /** False while every connection is down and waiting out its backoff, or the server refused the token: a request would fail fast. */
  get available(): boolean {
    if (this.refusal) return false;
    const now = Date.now();
    return this.slots.some((s) => s.conn?.isOpen || s.opening !== undefined || !s.backoff.waiting(now));
  }

  /** Requests waiting for a reply, over all connections. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.slots) n += s.conn?.inFlight ?? 0;
    return n;
  }

  /** Sends one request and resolves with its success reply. */
  request<T extends Request>(request: T, options?: RequestOptions): Promise<ReplyFor[T['type']]> {
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    // Hot path: an open connection is picked synchronously, so a burst of calls spreads over the pool.
    const conn = this.closed ? undefined : this.leastBusy();
    if (conn) return conn.request(request, timeoutMs);
    return this.connection().then((c) => c.request(request, timeoutMs));
  }

  private leastBusy(): PipelinedConnection | undefined {
    let best: PipelinedConnection | undefined;
    let complete = true;
    for (const s of this.slots) {
      if (s.conn?.isOpen) {
        if (best === undefined || s.conn.inFlight < best.inFlight) best = s.conn;
      } else complete = false;
    }
    return complete ? best : undefined;
  }

  query(request: Omit<QueryRequest, 'type'>, options?: RequestOptions): Promise<ReplyFor['query']> {
    return this.request({ type: 'query', ...request }, options);
  }

  createCollection(request: Omit<CreateRequest, 'type'>, options?: RequestOptions): Promise<ReplyFor['create']> {
    return this.request({ type: 'create', ...request }, options);
  }

  delete(request: Omit<DeleteRequest, 'type'>, options?: RequestOptions): Promise<ReplyFor['delete']> {
    return this.request({ type: 'delete', ...request }, options);
  }

  /**
   * Upserts, split into frames that fit the server's maxWriteBatch and frame size (a batch that
   * is still too large once encoded is halved). Resolves once every part is durable.
   */
  async upsert(request: Omit<UpsertRequest, 'type'>, options?: RequestOptions): Promise<UpsertReply> {
    const n = request.ids.length;
    const limits = this.serverLimits;
    const rowBytes = request.dim * 4 + 64;
    const perFrame = Math.max(1, Math.min(limits.maxWriteBatch, Math.floor(limits.maxFrameBytes / 2 / rowBytes)));
    const total: UpsertReply = { type: 'upsert_ok', upserted: 0, seq: 0 };
    const parts: [number, number][] = [];
    for (let start = 0; start < n || (n === 0 && parts.length === 0); start += perFrame) parts.push([start, Math.min(n, start + perFrame)]);
    for (let i = 0; i < parts.length; i += UPSERT_WINDOW) {
      const replies = await Promise.all(parts.slice(i, i + UPSERT_WINDOW).map(([a, b]) => this.upsertRange(request, a, b, options)));
      for (const r of replies) {
        total.upserted += r.upserted;
        total.seq = Math.max(total.seq, r.seq);
      }
    }
    return total;
  }

  private async upsertRange(request: Omit<UpsertRequest, 'type'>, start: number, end: number, options?: RequestOptions): Promise<UpsertReply> {
    const whole = start === 0 && end === request.ids.length;
    const part: UpsertRequest = {
      type: 'upsert',
      collection: request.collection,
      dim: request.dim,
      ids: whole ? request.ids : request.ids.slice(start, end),
      vectors: whole ? request.vectors : request.vectors.subarray(start * request.dim, end * request.dim),
    };
    if (request.payloads) part.payloads = whole ? request.payloads : request.payloads.slice(start, end);
    if (request.sparse) part.sparse = whole ? request.sparse : request.sparse.slice(start, end);
    try {
      return await this.request(part, options);
    } catch (error) {
      if (end - start > 1 && hasCode(error, 'RAGWIRE_ERR_FRAME_TOO_LARGE')) {
        const mid = start + ((end - start) >> 1);
        const [a, b] = await Promise.all([this.upsertRange(request, start, mid, options), this.upsertRange(request, mid, end, options)]);
        return { type: 'upsert_ok', upserted: a.upserted + b.upserted, seq: Math.max(a.seq, b.seq) };
      }
      throw error;
    }
  }

  /** Closes every connection; later requests reject with ShardUnavailableError. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (s) => {
        const conn = s.conn ?? (await s.opening?.catch(() => undefined));
        s.conn = undefined;
        await conn?.close();
      }),
    );
  }

  private async connection(): Promise<PipelinedConnection> {
    if (this.closed) throw new ShardUnavailableError(`${this.url}: client closed`);
    if (this.refusal) throw errorFromCode(this.refusal.code, this.refusal.message);
    const now = Date.now();
    let best: PipelinedConnection | undefined;
    let opening: Promise<PipelinedConnection> | undefined;
    const idle: Slot[] = [];
    for (const s of this.slots) {
      if (s.conn?.isOpen) {
        if (best === undefined || s.conn.inFlight < best.inFlight) best = s.conn;
      } else if (s.opening) opening ??= s.opening;
      else if (!s.backoff.waiting(now)) idle.push(s);
    }
    if (best) {
      // Fill the pool in the background once it is in use.
      for (const s of idle) this.open(s).catch(() => undefined);
      return best;
    }
    if (opening) return opening;
    if (idle.length > 0) return this.open(idle[0]!);
    const last = this.slots.find((s) => s.lastError)?.lastError;
    throw new ShardUnavailableError(`${this.url}: unavailable (reconnecting with backoff)${last ? `: ${last.message}` : ''}`, { cause: last });
  }

  private open(slot: Slot): Promise<PipelinedConnection> {
    const promise = this.handshake(slot).then(
      (conn) => {
        slot.opening = undefined;
        slot.backoff.succeeded();
        slot.lastError = undefined;
        if (this.closed) {
          void conn.close();
          throw new ShardUnavailableError(`${this.url}: client closed`);
        }
        slot.conn = conn;
        return conn;
      },
      (error: Error) => {
        slot.opening = undefined;
        slot.lastError = error;
        slot.backoff.failed();
        if (isRagwireError(error) && FINAL_REFUSALS.has(error.code as RagwireErrorCode)) this.refusal = error;
        throw error;
      },
    );
    slot.opening = promise;
    return promise;
  }

  private async handshake(slot: Slot): Promise<PipelinedConnection> {
    const options: TransportOptions = { connectTimeoutMs: this.options.connectTimeoutMs ?? 2000 };
    if (this.options.limits) options.limits = this.options.limits;
    if (this.options.maxUnsentBytes !== undefined) options.maxUnsentBytes = this.options.maxUnsentBytes;
    const transport = this.options.transport ? this.options.transport(this.url, options) : createTransport(this.url, options);
    const conn = await PipelinedConnection.open(transport, (error) => {
      if (slot.conn === conn) slot.conn = undefined;
      if (error) {
        slot.lastError = error;
        slot.backoff.failed();
      }
    });
    try {
      const hello = await conn.request(
        {
          type: 'hello',
          versions: [...SUPPORTED_VERSIONS],
          ...(this.options.token !== undefined ? { token: this.options.token } : {}),
          client: this.options.clientName ?? 'ragwire-client',
        },
        this.options.connectTimeoutMs ?? 2000,
      );
      if (hello.limits) this.serverLimits = { ...DEFAULT_LIMITS, ...hello.limits };
      const wanted = this.options.extensions;
      if (wanted !== undefined && wanted.length > 0) conn.extensions = await negotiate(conn, wanted, this.options.connectTimeoutMs ?? 2000);
    } catch (error) {
      await conn.close();
      throw error;
    }
    return conn;
  }
}

/**
 * The extensions the server turned on, of `wanted`. A server older than EXTENSIONS answers
 * RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE (docs/protocol.md §10): it gets no extension field.
 */
async function negotiate(conn: PipelinedConnection, wanted: Extension[], timeoutMs: number): Promise<ReadonlySet<Extension>> {
  try {
    const reply = await conn.request({ type: 'extensions', names: wanted }, timeoutMs);
    return new Set(reply.names.filter((name) => wanted.includes(name)));
  } catch (error) {
    if (hasCode(error, 'RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE')) return new Set();
    throw error;
  }
}

function createTransportCheck(url: string): void {
  // Building a transport validates the URL; nothing is connected until connect().
  void createTransport(url).close();
}
