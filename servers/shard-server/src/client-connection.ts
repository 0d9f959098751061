// One client connection: frames in (docs/protocol.md §9.1), pipelined requests, replies out of order (§2.2).
import { performance } from 'node:perf_hooks';
import {
  hasCode,
  BadFrameError,
  ClosedError,
  FrameDecoder,
  FrameWriter,
  SlowConsumerError,
  EXTENSIONS,
  PROTOCOL_VERSION,
  UnauthorizedError,
  UnsupportedVersionError,
  encodeFrame,
  encodeFrameParts,
  isRagwireError,
  isRequest,
  toErrorReply,
  type DecodeEvent,
  type ExtensionsReply,
  type ExtensionsRequest,
  type HelloRequest,
  type RagwireError,
  type Request,
  type Response,
} from '@ragwire/protocol';
import type { StoreRequest } from '@ragwire/store';
import { LOOPBACK_PRINCIPAL, type Principal } from './auth';
import type { ConnectionContext } from './connection-context';
import { brokenDeadline } from './connection-deadlines';
import { advertisedLimits, dispatch } from './dispatch';
import type { FrameSocket } from './listener';
import type { CloseReason, RequestMeters } from './metrics';
import { QuerySpan } from './query-span';

/** A request decoded and waiting for, or holding, one of the connection's dispatch slots. */
interface Pending {
  requestId: number;
  request: StoreRequest;
  principal: Principal;
  started: number;
  frameBytes: number;
}

/** Why reading is paused: too many requests (or request bytes) in flight, or replies the peer has not read. */
const PAUSED_WINDOW = 1;
const PAUSED_DRAIN = 2;

export class ClientConnection {
  readonly id: number;
  private readonly socket: FrameSocket;
  private readonly writer: FrameWriter;
  private readonly ctx: ConnectionContext;
  private readonly decoder: FrameDecoder;
  private readonly meters: RequestMeters;
  private readonly debug: boolean;
  private principal: Principal | undefined;
  private inFlight = 0;
  /** Bytes of the frames of the requests in flight. */
  private inFlightBytes = 0;
  /** Requests in flight that wait for a dispatch slot (at most maxConcurrentRequests run at once). */
  private queue: Pending[] = [];
  private running = 0;
  /** PAUSED_* bits; reading resumes when none is left. */
  private pausedBy = 0;
  private closed = false;
  private readEnded = false;
  private idleWaiters: (() => void)[] = [];
  private readonly openedAt: number;
  /** Last time a byte moved either way (performance.now() ms). */
  private lastProgressAt: number;
  private lastBytesWritten = 0;
  /** When the frame being received started, and which frame that was (frames + errors decoded before it). */
  private partialSince: number | undefined;
  private partialOrdinal = -1;

  constructor(id: number, socket: FrameSocket, ctx: ConnectionContext) {
    this.id = id;
    this.socket = socket;
    this.writer = new FrameWriter(socket);
    this.ctx = ctx;
    this.principal = ctx.tokens === undefined ? LOOPBACK_PRINCIPAL : undefined;
    // Until HELLO succeeds a connection may send only a HELLO-sized frame (docs/protocol.md §9.1).
    this.decoder = new FrameDecoder(ctx.limits, {
      budget: ctx.frameBudget,
      frameLimit: this.principal === undefined ? ctx.connectionLimits.preAuthMaxFrameBytes : ctx.limits.maxFrameBytes,
    });
    this.openedAt = this.lastProgressAt = performance.now();
    this.debug = ctx.log.isLevelEnabled('debug');
    this.meters = ctx.metrics.requestMeters;
    socket.setNoDelay(true);
    this.pushNativeState();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => {
      // The client finished sending: answer what is in flight, then close our side.
      for (const e of this.decoder.finish()) this.refused(e.ok ? undefined : e);
      this.readEnded = true;
      if (this.inFlight === 0) socket.end();
    });
    socket.on('error', (error) => {
      ctx.log.debug({ conn: id, err: error.message }, 'connection error');
      // A native loop closes a connection past its unsent-bytes cap itself (replies it answered count there too).
      if (hasCode(error, 'RAGWIRE_ERR_SLOW_CONSUMER') && !this.closed) ctx.metrics.closedConnections.inc({ reason: 'slow_consumer' });
    });
    socket.on('drain', () => this.resume(PAUSED_DRAIN));
    socket.on('close', () => {
      this.closed = true;
      this.decoder.dispose();
      this.dropQueued();
      if (this.pausedBy !== 0) ctx.metrics.pausedConnections.dec();
      this.pausedBy = 0;
      this.wakeIdle();
    });
  }

  /** Reply bytes written to the socket and not yet sent. */
  get unsentBytes(): number {
    return this.socket.writableLength;
  }

  /** Enforces the deadlines of connection-deadlines.ts (called by the server's sweep). */
  checkDeadlines(now: number): void {
    if (this.closed) return;
    const written = this.socket.bytesWritten;
    if (written !== this.lastBytesWritten) {
      this.lastBytesWritten = written;
      this.lastProgressAt = now;
    }
    const { principal, openedAt, partialSince, inFlight, lastProgressAt, decoder } = this;
    const view = { authenticated: principal !== undefined, openedAt, partialSince, paused: this.pausedBy !== 0, inFlight, lastProgressAt };
    const frame = { declaredFrameBytes: decoder.pendingFrameBytes, bufferedBytes: decoder.bufferedBytes };
    const broken = brokenDeadline({ ...view, ...frame }, this.ctx.connectionLimits, now);
    if (broken) this.abort(broken.reason, broken.error);
  }

  /**
   * Closes the connection for breaking a limit: logged, counted, and told with a connection-level
   * ERROR frame when the peer is still reading.
   */
  private abort(reason: CloseReason, error: RagwireError): void {
    if (this.closed) return;
    this.ctx.log.warn({ conn: this.id, reason, code: error.code, err: error.message, unsentBytes: this.socket.writableLength }, 'connection closed by limit');
    if (reason !== 'slow_consumer' && !this.socket.writableNeedDrain) this.socket.write(encodeFrame(toErrorReply(error), 0, this.ctx.limits));
    this.shut(reason);
  }

  /** Stops reading, frees the partial frame, and closes: at once for a peer that does not read, else after a FIN and a second's grace. */
  private shut(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.metrics.closedConnections.inc({ reason });
    this.decoder.dispose();
    this.dropQueued();
    this.socket.pause();
    if (reason === 'slow_consumer') {
      this.socket.destroy();
      return;
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /**
   * The server drains: reading goes on where a pause held it back, so the requests the peer sent
   * before the drain are read and refused (RAGWIRE_ERR_CLOSED) rather than dropped at the close. A
   * peer that does not read its replies pauses the connection again (write) and is bounded as before.
   */
  drain(): void {
    this.resume(PAUSED_WINDOW | PAUSED_DRAIN);
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
    if (this.closed) return;
    const now = performance.now();
    this.lastProgressAt = now;
    this.decoder.feed(chunk, this.onFrame);
    if (this.decoder.bufferedBytes === 0) this.partialSince = undefined;
    else {
      const ordinal = this.decoder.stats.frames + this.decoder.stats.errors;
      if (this.partialSince === undefined || ordinal !== this.partialOrdinal) {
        this.partialSince = now;
        this.partialOrdinal = ordinal;
      }
    }
  }

  private readonly onFrame = (e: DecodeEvent): void => {
    if (this.closed) return;
    if (!e.ok) {
      this.refused(e);
      if (e.fatal) this.shut(hasCode(e.error, 'RAGWIRE_ERR_OVERLOADED') ? 'partial_frame_budget' : 'bad_stream');
      return;
    }
    const msg = e.message;
    if (!isRequest(msg)) {
      this.refused({ error: new BadFrameError(`a ${msg.type} frame is a reply; a server takes requests`), requestId: e.requestId, fatal: false });
      return;
    }
    this.handle(e.requestId, msg, e.frameBytes);
  };

  private pause(reason: number): void {
    if (this.pausedBy === 0) {
      this.socket.pause();
      this.ctx.metrics.pausedConnections.inc();
    }
    this.pausedBy |= reason;
  }

  private resume(reason: number): void {
    if ((this.pausedBy & reason) === 0) return;
    this.pausedBy &= ~reason;
    if (this.pausedBy !== 0 || this.closed) return;
    this.ctx.metrics.pausedConnections.dec();
    // The peer was not read from meanwhile: a frame it had started gets a fresh grace.
    if (this.partialSince !== undefined) this.partialSince = performance.now();
    this.socket.resume();
    this.pump();
  }

  private refused(e: { error: Error; requestId: number | undefined; fatal: boolean } | undefined): void {
    if (e === undefined) return;
    const code = isRagwireError(e.error) ? e.error.code : 'RAGWIRE_ERR_INTERNAL';
    this.ctx.metrics.frameErrors.inc({ code });
    this.ctx.log.info({ conn: this.id, reqId: e.requestId, code, fatal: e.fatal, err: e.error.message }, 'frame refused');
    this.write(e.requestId ?? 0, toErrorReply(e.error));
  }

  private handle(requestId: number, request: Request, frameBytes: number): void {
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
    if (request.type === 'extensions') {
      this.finish(requestId, request.type, started, this.turnOn(request));
      return;
    }
    this.inFlight++;
    this.inFlightBytes += frameBytes;
    this.ctx.metrics.inFlight.inc();
    // Backpressure: stop reading until half the window (in requests and in bytes) has been answered.
    if (this.inFlight >= this.ctx.maxInFlight || this.inFlightBytes > this.ctx.connectionLimits.maxInFlightRequestBytes) this.pause(PAUSED_WINDOW);
    this.queue.push({ requestId, request: request as StoreRequest, principal, started, frameBytes });
    this.pump();
  }

  /**
   * Starts queued requests while a dispatch slot is free and the peer reads its replies: a request's
   * answer is built only once there is room to send it, so unread answers cannot pile up in memory.
   */
  private pump(): void {
    const limit = this.ctx.connectionLimits.maxConcurrentRequests;
    while (this.running < limit && this.queue.length > 0 && (this.pausedBy & PAUSED_DRAIN) === 0 && !this.closed) {
      const p = this.queue.shift()!;
      this.running++;
      const r = p.request;
      // A frame carries `trace` only where this server turned the extension on, which it does only with tracing on.
      const span =
        r.type === 'query' && r.trace !== undefined && this.ctx.tracing
          ? new QuerySpan(this.ctx.tracing, { ...r, trace: r.trace }, performance.now() - p.started)
          : undefined;
      dispatch(this.ctx.store, p.principal, r, this.ctx.fleet, span?.stage).then(
        (reply) => (span?.end(reply), this.settle(p, reply)),
        (error: unknown) => (span?.end(error), this.settle(p, error)),
      );
    }
  }

  private settle(p: Pending, outcome: Response | unknown): void {
    this.running--;
    this.done(p);
    this.finish(p.requestId, p.request.type, p.started, outcome);
    this.pump();
  }

  /** Requests that never ran because the connection closed: answered by nobody, counted out. */
  private dropQueued(): void {
    const dropped = this.queue;
    this.queue = [];
    for (const p of dropped) this.done(p);
  }

  private done(p: Pending): void {
    this.inFlight--;
    this.inFlightBytes -= p.frameBytes;
    this.ctx.metrics.inFlight.dec();
    if (this.inFlight <= this.ctx.maxInFlight >> 1 && this.inFlightBytes <= this.ctx.connectionLimits.maxInFlightRequestBytes >> 1) this.resume(PAUSED_WINDOW);
    if (this.inFlight === 0) {
      this.wakeIdle();
      if (this.readEnded && !this.closed) this.socket.end();
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
        this.pushNativeState();
        return error as Error;
      }
      this.decoder.frameLimit = this.ctx.limits.maxFrameBytes;
      this.pushNativeState();
      this.ctx.log.info({ conn: this.id, principal: this.principal.id, client: request.client }, 'authenticated');
    }
    return { type: 'hello_ok', version: PROTOCOL_VERSION, server: this.ctx.serverName, limits: advertisedLimits(this.ctx.limits) };
  }

  /** EXTENSIONS (docs/protocol.md §5.12): turns on the asked extensions this server serves, from the next frame on. */
  private turnOn(request: ExtensionsRequest): ExtensionsReply {
    const names = EXTENSIONS.filter((name) => request.names.includes(name) && this.ctx.extensions.has(name));
    this.decoder.extensions = new Set(names);
    this.pushNativeState();
    return { type: 'extensions_ok', names };
  }

  /**
   * A native loop's socket learns what this connection settled (its principal, its extensions)
   * before any reply says so, so the loop applies it from the client's next frame on; until the
   * connection is authenticated every frame reaches this class.
   */
  private pushNativeState(): void {
    if (!this.socket.setNativeState) return;
    const readable = this.principal?.readable() ?? { any: false, names: [] };
    this.socket.setNativeState({
      ready: this.principal !== undefined,
      traceOn: this.decoder.extensions.has('trace'),
      readAny: readable.any,
      readable: readable.names,
    });
  }

  private finish(requestId: number, type: string, started: number, outcome: Response | unknown): void {
    let reply: Response;
    let code = 'ok';
    if (outcome instanceof Error || !isResponse(outcome)) {
      reply = toErrorReply(outcome);
      code = reply.code;
      if (!isRagwireError(outcome) || hasCode(outcome, 'RAGWIRE_ERR_INTERNAL'))
        this.ctx.log.error({ conn: this.id, reqId: requestId, type, err: outcome }, 'request failed');
    } else reply = outcome;
    code = this.write(requestId, reply) ?? code;
    const seconds = (performance.now() - started) / 1000;
    this.meters.record(type, code, seconds);
    if (this.debug) this.ctx.log.debug({ conn: this.id, reqId: requestId, type, code, ms: seconds * 1000 }, 'request');
  }

  /**
   * Writes one frame; a reply that cannot be encoded (too large) is answered with its error. Returns
   * that error's code. Replies the peer does not read pause its requests above replyHighWaterBytes
   * and close the connection above maxUnsentReplyBytes, authenticated or not.
   */
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
    this.writer.write(parts);
    const unsent = this.socket.writableLength;
    const limits = this.ctx.connectionLimits;
    if (unsent > limits.maxUnsentReplyBytes) {
      this.abort('slow_consumer', new SlowConsumerError(`${unsent} bytes of replies unread (limit ${limits.maxUnsentReplyBytes})`));
    } else if (unsent > limits.replyHighWaterBytes && this.socket.writableNeedDrain) {
      this.pause(PAUSED_DRAIN);
    }
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
