// tcp:// and unix:// transports: frames (docs/protocol.md §2-§3) over a node:net socket.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  BadFrameError,
  FrameDecoder,
  FrameWriter,
  DEFAULT_LIMITS,
  InvalidArgumentError,
  ShardUnavailableError,
  SlowConsumerError,
  encodeFrameParts,
  isRequest,
  type ProtocolLimits,
  type Request,
} from '@ragwire/protocol';
import { registerTransport, type Transport, type TransportHandlers, type TransportOptions } from './transport';

type Endpoint = { port: number; host: string } | { path: string };

/**
 * A connected byte stream, shaped like net.Socket: it emits 'connect' once open, then 'data',
 * 'error' and 'close'. A net.Socket is one; so is @ragwire/native's UcxSocket (ucx://).
 */
export interface StreamSocket extends Duplex {
  setNoDelay(noDelay?: boolean): this;
}

/** Opens the stream for one connection. */
export type Dial = () => StreamSocket;

/** Frames over a byte stream socket. Writes made in one tick leave in one gathered write. */
export class SocketTransport implements Transport {
  readonly url: string;
  private readonly dial: Dial;
  private readonly connectTimeoutMs: number;
  private readonly limits: ProtocolLimits | undefined;
  private readonly maxUnsentBytes: number;
  private socket: StreamSocket | undefined;
  private writer: FrameWriter | undefined;
  private handlers: TransportHandlers | undefined;
  private ended = false;

  /** `endpoint`: a tcp or unix address, or a function that opens the stream (other transports). */
  constructor(url: string, endpoint: Endpoint | Dial, options: TransportOptions) {
    this.url = url;
    this.dial = typeof endpoint === 'function' ? endpoint : () => net.connect(endpoint as net.NetConnectOpts);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.limits = options.limits as ProtocolLimits | undefined;
    this.maxUnsentBytes = options.maxUnsentBytes ?? 2 * (options.limits?.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes);
  }

  /** Request bytes written and not yet taken by the shard. */
  get unsentBytes(): number {
    return this.socket?.writableLength ?? 0;
  }

  connect(handlers: TransportHandlers): Promise<void> {
    if (this.socket) throw new InvalidArgumentError(`${this.url}: connect() called twice`);
    this.handlers = handlers;
    const decoder = new FrameDecoder(this.limits);
    const socket = this.dial();
    this.socket = socket;
    this.writer = new FrameWriter(socket);
    socket.setNoDelay(true);
    let connected = false;
    let lastError: Error | undefined;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy(new Error(`no connection within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        connected = true;
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.receive(decoder, chunk));
      socket.on('error', (error) => (lastError = error));
      socket.once('close', () => {
        clearTimeout(timer);
        const why = lastError ? lastError.message : 'connection closed by the shard';
        const error = new ShardUnavailableError(`${this.url}: ${why}`, { cause: lastError });
        if (!connected) {
          this.ended = true;
          reject(error);
          return;
        }
        const broke = !this.ended;
        this.ended = true;
        this.handlers?.closed(broke ? error : undefined);
      });
    });
  }

  send(requestId: number, request: Request): void {
    const socket = this.socket;
    if (socket === undefined || this.ended) throw new ShardUnavailableError(`${this.url}: not connected`);
    // A shard that stops reading must not grow this process: refuse rather than buffer without bound.
    if (socket.writableLength > this.maxUnsentBytes) {
      throw new SlowConsumerError(`${this.url} has not read ${socket.writableLength} bytes of requests (limit ${this.maxUnsentBytes})`);
    }
    this.writer!.write(encodeFrameParts(request, requestId, this.limits));
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.socket?.destroy();
  }

  private receive(decoder: FrameDecoder, chunk: Buffer): void {
    const handlers = this.handlers!;
    for (const e of decoder.push(chunk)) {
      if (e.ok) {
        if (!isRequest(e.message)) handlers.reply(e.requestId, e.message);
        else this.fail(new BadFrameError(`${this.url} sent a request frame (${e.message.type}) to a client`));
      } else if (e.fatal) {
        this.fail(e.error);
        return;
      } else if (e.requestId !== undefined) {
        handlers.reply(e.requestId, e.error);
      }
    }
  }

  /** A stream the decoder cannot continue: drop the connection ('close' reports the error). */
  private fail(error: Error): void {
    this.socket?.destroy(error);
  }
}

registerTransport('tcp', (url, raw, options) => {
  const port = Number(url.port);
  if (!url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`tcp URL needs a host and a port, got ${JSON.stringify(raw)}`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return new SocketTransport(raw, { host, port }, options);
});

registerTransport('unix', (url, raw, options) => {
  const path = decodeURIComponent(url.pathname);
  if (!path || path === '/') throw new InvalidArgumentError(`unix URL needs a socket path (unix:///run/ragwire.sock), got ${JSON.stringify(raw)}`);
  return new SocketTransport(raw, { path }, options);
});
