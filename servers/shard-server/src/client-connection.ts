// One client connection: frames in (docs/protocol.md §9.1), pipelined requests, replies out of order (§2.2).
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import {
  BadFrameError,
  ClosedError,
  FrameDecoder,
  PROTOCOL_VERSION,
  UnauthorizedError,
  UnsupportedVersionError,
  encodeFrameParts,
  isRagwireError,
  toErrorReply,
  type HelloRequest,
  type ProtocolLimits,
  type Request,
  type Response,
} from '@ragwire/protocol';
import type { Store } from '@ragwire/store';
import { LOOPBACK_PRINCIPAL, type Principal, type TokenTable } from './auth';
import { advertisedLimits, dispatch } from './dispatch';
import type { ShardMetrics } from './metrics';

const REQUEST_TYPES = new Set<string>(['hello', 'create', 'drop', 'describe', 'upsert', 'delete', 'query', 'stats', 'snapshot']);

/** What every connection of one server shares. */
export interface ConnectionContext {
  store: Store;
  /** Undefined: no tokens configured (loopback only), every connection has full access. */
  tokens: TokenTable | undefined;
  limits: ProtocolLimits;
  metrics: ShardMetrics;
  log: Logger;
  maxInFlight: number;
  serverName: string;
  /** True once the server is shutting down: new requests get RAGWIRE_ERR_CLOSED. */
  draining(): boolean;
}

/** prom-client children per (type, code), so the hot path does not build label objects. */
class RequestMeters {
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly timers = new Map<string, Histogram.Internal<'type'>>();
  constructor(private readonly metrics: ShardMetrics) {}

  record(type: string, code: string, seconds: number): void {
    const key = `${type}\u0000${code}`;
    let c = this.counters.get(key);
    if (c === undefined) this.counters.set(key, (c = this.metrics.requests.labels(type, code)));
    c.inc();
    let h = this.timers.get(type);
    if (h === undefined) this.timers.set(type, (h = this.metrics.latency.labels(type)));
    h.observe(seconds);
  }
}
const meters = new WeakMap<ShardMetrics, RequestMeters>();

export class ClientConnection {
  readonly id: number;
  private readonly socket: net.Socket;
  private readonly ctx: ConnectionContext;
  private readonly decoder: FrameDecoder;
  private readonly meters: RequestMeters;
  private readonly debug: boolean;
  private principal: Principal | undefined;
  private inFlight = 0;
  private paused = false;
  private corked = false;
  private closed = false;
  private readEnded = false;
  private idleWaiters: (() => void)[] = [];

  constructor(id: number, socket: net.Socket, ctx: ConnectionContext) {
    this.id = id;
    this.socket = socket;
    this.ctx = ctx;
    this.decoder = new FrameDecoder(ctx.limits);
    this.principal = ctx.tokens === undefined ? LOOPBACK_PRINCIPAL : undefined;
    this.debug = ctx.log.isLevelEnabled('debug');
    let m = meters.get(ctx.metrics);
    if (m === undefined) meters.set(ctx.metrics, (m = new RequestMeters(ctx.metrics)));
    this.meters = m;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => {
      // The client finished sending: answer what is in flight, then close our side.
      for (const e of this.decoder.finish()) this.refused(e.ok ? undefined : e);
      this.readEnded = true;
      if (this.inFlight === 0) socket.end();
    });
    socket.on('error', (error) => ctx.log.debug({ conn: id, err: error.message }, 'connection error'));
    socket.on('close', () => {
      this.closed = true;
      this.wakeIdle();
    });
  }

  /** Resolves once no request of this connection is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops reading and closes the connection once what was written is flushed. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    for (const e of this.decoder.push(chunk)) {
      if (!e.ok) {
        this.refused(e);
        if (e.fatal) {
          this.socket.end();
          return;
        }
        continue;
      }
      const msg = e.message;
      if (!REQUEST_TYPES.has(msg.type)) {
        this.refused({ error: new BadFrameError(`a ${msg.type} frame is a reply; a server takes requests`), requestId: e.requestId, fatal: false });
        continue;
      }
      this.handle(e.requestId, msg as Request);
    }
  }

  private refused(e: { error: Error; requestId: number | undefined; fatal: boolean } | undefined): void {
    if (e === undefined) return;
    const code = isRagwireError(e.error) ? e.error.code : 'RAGWIRE_ERR_INTERNAL';
    this.ctx.metrics.frameErrors.inc({ code });
    this.ctx.log.info({ conn: this.id, reqId: e.requestId, code, fatal: e.fatal, err: e.error.message }, 'frame refused');
    this.write(e.requestId ?? 0, toErrorReply(e.error));
  }

  private handle(requestId: number, request: Request): void {
    const started = performance.now();
    if (request.type === 'hello') {
      this.finish(requestId, request.type, started, this.hello(request));
      return;
    }
    if (this.ctx.draining()) {
      this.finish(requestId, request.type, started, new ClosedError('the shard server is shutting down'));
      return;
    }
    const principal = this.principal;
    if (principal === undefined) {
      this.finish(requestId, request.type, started, new UnauthorizedError('send HELLO with a token first'));
      return;
    }
    this.inFlight++;
    this.ctx.metrics.inFlight.inc();
    if (this.inFlight >= this.ctx.maxInFlight && !this.paused) {
      // Backpressure: stop reading until half the window has been answered.
      this.paused = true;
      this.socket.pause();
      this.ctx.metrics.pausedConnections.inc();
    }
    dispatch(this.ctx.store, principal, request).then(
      (reply) => this.settle(requestId, request.type, started, reply),
      (error: unknown) => this.settle(requestId, request.type, started, error),
    );
  }

  private settle(requestId: number, type: string, started: number, outcome: Response | unknown): void {
    this.inFlight--;
    this.ctx.metrics.inFlight.dec();
    this.finish(requestId, type, started, outcome);
    if (this.paused && this.inFlight <= this.ctx.maxInFlight >> 1) {
      this.paused = false;
      this.socket.resume();
      this.ctx.metrics.pausedConnections.dec();
    }
    if (this.inFlight === 0) {
      this.wakeIdle();
      if (this.readEnded) this.socket.end();
    }
  }

  private hello(request: HelloRequest): Response | Error {
    if (!request.versions.includes(PROTOCOL_VERSION)) {
      return new UnsupportedVersionError(`this server speaks protocol version ${PROTOCOL_VERSION}; the client offered ${request.versions.join(', ')}`);
    }
    if (this.ctx.tokens !== undefined) {
      try {
        this.principal = this.ctx.tokens.authenticate(request.token);
      } catch (error) {
        this.principal = undefined;
        return error as Error;
      }
      this.ctx.log.info({ conn: this.id, principal: this.principal.id, client: request.client }, 'authenticated');
    }
    return { type: 'hello_ok', version: PROTOCOL_VERSION, server: this.ctx.serverName, limits: advertisedLimits(this.ctx.limits) };
  }

  private finish(requestId: number, type: string, started: number, outcome: Response | unknown): void {
    let reply: Response;
    let code = 'ok';
    if (outcome instanceof Error || !isResponse(outcome)) {
      reply = toErrorReply(outcome);
      code = reply.code;
      if (code === 'RAGWIRE_ERR_INTERNAL') this.ctx.log.error({ conn: this.id, reqId: requestId, type, err: outcome }, 'request failed');
    } else reply = outcome;
    code = this.write(requestId, reply) ?? code;
    const seconds = (performance.now() - started) / 1000;
    this.meters.record(type, code, seconds);
    if (this.debug) this.ctx.log.debug({ conn: this.id, reqId: requestId, type, code, ms: seconds * 1000 }, 'request');
  }

  /** Writes one frame; a reply that cannot be encoded (too large) is answered with its error. Returns that error's code. */
  private write(requestId: number, reply: Response): string | undefined {
    if (this.closed || this.socket.destroyed) return undefined;
    let parts: Uint8Array[];
    let code: string | undefined;
    try {
      parts = encodeFrameParts(reply, requestId, this.ctx.limits);
    } catch (error) {
      const err = toErrorReply(error);
      code = err.code;
      parts = encodeFrameParts(err, requestId, this.ctx.limits);
    }
    if (!this.corked) {
      // Every frame written in this tick leaves in one writev.
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    for (let i = 0; i < parts.length; i++) this.socket.write(parts[i]!);
    return code;
  }

  private wakeIdle(): void {
    if (this.inFlight !== 0 && !this.closed) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

function isResponse(value: unknown): value is Response {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && !(value instanceof Error);
}
