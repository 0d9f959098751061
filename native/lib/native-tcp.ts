// The native data plane's TCP listener (src/dataplane/tcp_loop.cpp, docs/protocol.md §2.3): an
// epoll thread accepts and reads the connections and walks their frame headers; its events reach
// JavaScript in batches, one wake-up for every event queued since the last. Each connection is a
// NativeTcpSocket, a Duplex shaped like net.Socket, so the frame code that serves tcp:// (decoder,
// pipelining, backpressure, connection limits) serves it unchanged.
import { Duplex } from 'node:stream';
import { NATIVE_LOOP_LIMITS, errorFromCode } from '@ragwire/protocol';
import { ANSWER_TIME_BOUNDS_NS, answerTimes, sumAnswerTimes, type AnswerTimes } from './answer-times';
import { native, type DataPlaneLimits } from './binding';
import { answererArgs, type NativeAnswering } from './data-plane-registry';
import { spinMicros } from './polling';

const { readWindowBytes: READ_WINDOW_BYTES } = NATIVE_LOOP_LIMITS;
/** Bytes a write may leave in the loop's queue before its callback waits for the kernel to take them. */
const SEND_ALLOWANCE = 256 * 1024;

/** The addon's TCP loop surface (src/binding/tcp_loop_wrap.cpp). */
interface TcpLoopAddon {
  tcpLoopOpen(
    host: string,
    port: number,
    options: {
      maxFrameBytes: number;
      maxUnsentBytes: number;
      readWindowBytes: number;
      keepFrameBytes: number;
      replyHighWaterBytes: number;
      answerTimeBoundsNs: readonly number[];
      closeLingerMs: number;
      spinUs: number;
      beside?: number;
    },
    onEvents: (events: unknown[]) => void,
  ): { id: number; port: number };
  tcpLoopSend(loop: number, conn: number, chunks: Uint8Array[], allowance: number): number;
  tcpLoopAck(loop: number, conn: number, bytes: number): void;
  tcpLoopFinish(loop: number, conn: number): void;
  tcpLoopClose(loop: number, conn: number, graceful: boolean): void;
  tcpLoopSetState(loop: number, conn: number, state: NativeConnectionState): void;
  tcpLoopAnsweredBytes(loop: number, conn: number): number;
  tcpLoopBarrier(loop: number): void;
  tcpLoopAnswerFrom(loop: number, registry: number, limits: DataPlaneLimits, storeCaps: { maxK: number; maxEfSearch: number }): void;
  tcpLoopStopAccepting(loop: number): void;
  tcpLoopDispose(loop: number): void;
  tcpLoopRef(loop: number, on: boolean): void;
  tcpLoopStats(loop: number): NativeTcpStats;
}

/** Event kinds, as src/dataplane/tcp_loop.hpp numbers them. */
enum LoopEvent {
  Accept = 0,
  Data = 1,
  End = 2,
  Drain = 3,
  Closed = 4,
  Barrier = 5,
}

/** What the loop thread has done (counters since it started). */
export interface NativeTcpStats {
  /** Times the thread waited in epoll_wait: an idle listener adds none. */
  waits: number;
  /** Frame headers the loop walked, and of those QUERY frames. */
  frames: number;
  queries: number;
  /** QUERY frames answered on the loop thread, and those kept whole but handed to JavaScript. */
  answered: number;
  declined: number;
  accepted: number;
  open: number;
  /** Open connections JavaScript marked ready (setNativeState): their QUERY frames may be answered natively. */
  ready: number;
  /** Reply bytes queued in the loop over all connections. */
  unsentBytes: number;
  /** The answered queries by time taken. */
  answerTimes: AnswerTimes;
}

export interface NativeTcpLimits {
  /** The protocol's frame limit: headers are checked against it. */
  maxFrameBytes: number;
  /** Unsent reply bytes of one connection above which the loop stops reading it until they drain (connectionLimits.replyHighWaterBytes). */
  replyHighWaterBytes: number;
  /** Unsent reply bytes of one connection above which the loop closes it (connectionLimits.maxUnsentReplyBytes). */
  maxUnsentReplyBytes: number;
}

/** What the server settled for a connection (HELLO, token, EXTENSIONS), as the loop keeps it. */
export interface NativeConnectionState {
  /** Authenticated (or a server without tokens): until then every frame goes to JavaScript. */
  ready: boolean;
  /** The connection turned the trace extension on. */
  traceOn: boolean;
  /** The collections it may read: every one, or those named. */
  readAny: boolean;
  readable: string[];
}

export interface NativeTcpListener {
  /** The port bound (the one asked for, or the ephemeral one). */
  readonly port: number;
  /** The counters of its loops, added up. */
  stats(): NativeTcpStats;
  /** The counters of each loop (the first accepts every connection and hands them out in turn). */
  statsByLoop(): NativeTcpStats[];
  /**
   * Resolves once every frame the loop read so far was answered by it or handed to JavaScript (and
   * its handlers ran): after the registry stops answering, what JavaScript holds is all there is.
   */
  quiesce(): Promise<void>;
  /** Stops accepting; resolves once every connection is closed and the loop thread has stopped. */
  close(): Promise<void>;
}

export class NativeTcpSocket extends Duplex {
  /** Bytes handed to the loop from JavaScript. */
  #written = 0;
  /** The loop's answered bytes when last asked (kept once the socket is gone). */
  #answered = 0;
  /** Bytes received, as net.Socket's bytesRead. */
  bytesRead = 0;
  private heldAck = 0;
  private drainCallback: ((error?: Error | null) => void) | undefined;

  constructor(
    private readonly loop: LoopHandle,
    readonly id: number,
    /** The peer, `host:port`. */
    readonly remote: string,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: READ_WINDOW_BYTES, writableHighWaterMark: 64 * 1024 });
  }

  /** Bytes sent, as net.Socket's bytesWritten: JavaScript's replies and those the loop answered itself. */
  get bytesWritten(): number {
    if (!this.destroyed) this.#answered = this.loop.addon.tcpLoopAnsweredBytes(this.loop.id, this.id);
    return this.#written + this.#answered;
  }

  /** Tells the loop what the server settled for this connection; it applies from the next whole frame on. */
  setNativeState(state: NativeConnectionState): void {
    if (!this.destroyed) this.loop.addon.tcpLoopSetState(this.loop.id, this.id, state);
  }

  /** net.Socket compatibility: the loop sets TCP_NODELAY on every connection it accepts. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  onLoopEvent(kind: LoopEvent, payload: Buffer | string | undefined): void {
    switch (kind) {
      case LoopEvent.Data: {
        const chunk = payload as Buffer;
        this.bytesRead += chunk.length;
        // Bytes go back to the loop's window only once the reader took them: a paused reader stops reading.
        if (this.push(chunk)) this.loop.addon.tcpLoopAck(this.loop.id, this.id, chunk.length);
        else this.heldAck += chunk.length;
        return;
      }
      case LoopEvent.End:
        this.push(null);
        return;
      case LoopEvent.Drain: {
        const cb = this.drainCallback;
        this.drainCallback = undefined;
        cb?.();
        return;
      }
      case LoopEvent.Closed:
        this.destroy(closeReason(payload as string));
        return;
      case LoopEvent.Accept:
        throw new Error(`connection ${this.id} accepted twice`);
      case LoopEvent.Barrier:
        throw new Error('a loop barrier addressed to a connection');
      default: {
        const never: never = kind;
        throw new Error(`unknown TCP loop event ${String(never)}`);
      }
    }
  }

  override _read(): void {
    if (this.heldAck > 0 && !this.destroyed) {
      this.loop.addon.tcpLoopAck(this.loop.id, this.id, this.heldAck);
      this.heldAck = 0;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.send(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.loop.addon.tcpLoopFinish(this.loop.id, this.id);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.loop.forget(this.id, error === null && this.readableEnded && this.writableFinished);
    const cb = this.drainCallback;
    this.drainCallback = undefined;
    cb?.(error ?? new Error('socket destroyed'));
    callback(error);
  }

  private send(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    for (const c of chunks) this.#written += c.length;
    const queued = this.loop.addon.tcpLoopSend(this.loop.id, this.id, chunks, SEND_ALLOWANCE);
    // Small writes complete at once; past the allowance the writer waits for the kernel to take
    // them, so writableLength (what connection limits watch) counts what the peer has not taken.
    if (queued <= SEND_ALLOWANCE) callback();
    else this.drainCallback = callback;
  }
}

/** One loop: its id in the addon and the sockets its events go to. */
class LoopHandle {
  readonly sockets = new Map<number, NativeTcpSocket>();
  /** Callers of quiesce() waiting for the loop's barrier event. */
  private barriers: (() => void)[] = [];
  private closing: (() => void) | undefined;
  /** The loop's last counters, kept once it is disposed. */
  private final: NativeTcpStats | undefined;

  constructor(
    readonly addon: TcpLoopAddon,
    readonly id: number,
  ) {}

  onEvents(events: unknown[], onConnection: (socket: NativeTcpSocket) => void): void {
    for (let i = 0; i < events.length; i += 3) {
      const kind = events[i] as LoopEvent;
      const conn = events[i + 1] as number;
      if (kind === LoopEvent.Barrier) {
        // After the handlers of the bytes delivered before it have run.
        const waiting = this.barriers;
        this.barriers = [];
        setImmediate(() => {
          for (const resolve of waiting) resolve();
        });
        continue;
      }
      if (kind !== LoopEvent.Accept) {
        this.sockets.get(conn)?.onLoopEvent(kind, events[i + 2] as Buffer | string | undefined);
        continue;
      }
      const socket = new NativeTcpSocket(this, conn, events[i + 2] as string);
      this.sockets.set(conn, socket);
      if (this.closing) socket.destroy();
      else onConnection(socket);
    }
  }

  forget(conn: number, graceful: boolean): void {
    if (!this.sockets.delete(conn)) return;
    this.addon.tcpLoopClose(this.id, conn, graceful);
    if (this.closing && this.sockets.size === 0) this.dispose();
  }

  quiesce(): Promise<void> {
    if (this.final) return Promise.resolve();
    return new Promise((resolve) => {
      this.barriers.push(resolve);
      this.addon.tcpLoopBarrier(this.id);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.closing = resolve;
      this.addon.tcpLoopStopAccepting(this.id);
      if (this.sockets.size === 0) this.dispose();
    });
  }

  stats(): NativeTcpStats {
    return this.final ?? this.read();
  }

  private read(): NativeTcpStats {
    const s = this.addon.tcpLoopStats(this.id);
    return { ...s, answerTimes: answerTimes(s.answerTimes) };
  }

  private dispose(): void {
    if (this.final) return;
    this.final = this.read();
    this.addon.tcpLoopDispose(this.id);
    this.closing?.();
  }
}

/** How a native+tcp:// listener runs. */
export interface NativeTcpListenOptions {
  /** Answer the QUERY frames the loops can of connections marked ready (NativeTcpSocket.setNativeState) from this store's collections. */
  answering?: NativeAnswering;
  /** Loop threads: the first accepts and hands the connections to each in turn; each answers its own. Default 1. */
  loops?: number;
}

/**
 * Listens on host:port (0: ephemeral) on native epoll threads; `onConnection` gets every accepted
 * socket. With `answering`, the loops answer the QUERY frames they can themselves and hand every
 * other frame on.
 */
export function listenNativeTcp(
  host: string,
  port: number,
  limits: NativeTcpLimits,
  onConnection: (socket: NativeTcpSocket) => void,
  options: NativeTcpListenOptions = {},
): NativeTcpListener {
  const loops = options.loops ?? 1;
  if (!Number.isInteger(loops) || loops < 1) throw new RangeError(`loops must be a positive integer, got ${loops}`);
  const addon = native() as unknown as TcpLoopAddon;
  const loopOptions = {
    maxFrameBytes: limits.maxFrameBytes,
    maxUnsentBytes: limits.maxUnsentReplyBytes + SEND_ALLOWANCE,
    readWindowBytes: READ_WINDOW_BYTES,
    keepFrameBytes: Math.min(NATIVE_LOOP_LIMITS.keepFrameBytes, limits.maxFrameBytes),
    replyHighWaterBytes: limits.replyHighWaterBytes,
    answerTimeBoundsNs: ANSWER_TIME_BOUNDS_NS,
    closeLingerMs: NATIVE_LOOP_LIMITS.closeLingerMs,
    spinUs: spinMicros(),
  };
  const handles: LoopHandle[] = [];
  let bound = 0;
  try {
    for (let i = 0; i < loops; i++) {
      let handle: LoopHandle | undefined;
      const opened = addon.tcpLoopOpen(host, port, i === 0 ? loopOptions : { ...loopOptions, beside: handles[0]!.id }, (events) =>
        handle?.onEvents(events, onConnection),
      );
      handle = new LoopHandle(addon, opened.id);
      handles.push(handle);
      bound = opened.port;
      if (options.answering) addon.tcpLoopAnswerFrom(opened.id, ...answererArgs(options.answering));
      // An accepting listener keeps the process alive, as a listening net.Server does.
      addon.tcpLoopRef(opened.id, true);
    }
  } catch (error) {
    for (const h of handles) void h.close();
    throw error;
  }
  return {
    port: bound,
    stats: () => sumStats(handles.map((h) => h.stats())),
    statsByLoop: () => handles.map((h) => h.stats()),
    quiesce: async () => void (await Promise.all(handles.map((h) => h.quiesce()))),
    close: async () => void (await Promise.all(handles.map((h) => h.close()))),
  };
}

/** The counters of a listener's loops, added up. */
function sumStats(all: NativeTcpStats[]): NativeTcpStats {
  const { answerTimes: _, ...counters } = all[0]!;
  const total: Omit<NativeTcpStats, 'answerTimes'> = counters;
  for (const s of all.slice(1)) for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += s[key];
  return { ...total, answerTimes: sumAnswerTimes(all.map((s) => s.answerTimes)) };
}

/** Why the loop closed a connection: the typed error when its text names a code ("RAGWIRE_ERR_...: why"). */
function closeReason(text: string): Error {
  const named = /^(RAGWIRE_ERR_[A-Z_]+): (.*)$/s.exec(text);
  return named ? errorFromCode(named[1]!, named[2]!) : new Error(text);
}
