// docs/protocol.md §2.2: many requests in flight on one transport, matched by request_id.
import {
  InternalError,
  ShardTimeoutError,
  ShardUnavailableError,
  fromErrorReply,
  isRagwireError,
  replyTypeOf,
  type Extension,
  type ReplyFor,
  type Request,
  type Response,
} from '@ragwire/protocol';
import type { Transport } from './transport';

const NO_EXTENSIONS: ReadonlySet<Extension> = new Set();

interface Pending {
  type: Request['type'];
  resolve(reply: Response): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One open transport with its requests in flight. Request ids count up from 1, wrap at 2^32 and
 * skip ids still pending. A request that outlives its timeout rejects with ShardTimeoutError and
 * its late reply is dropped; a lost connection rejects everything pending with ShardUnavailableError.
 */
export class PipelinedConnection {
  readonly transport: Transport;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedWith: Error | undefined;
  private onClosed: ((error?: Error) => void) | undefined;
  /** Extensions the server turned on for this connection (docs/protocol.md §5.12); set once, after HELLO. */
  extensions: ReadonlySet<Extension> = NO_EXTENSIONS;

  private constructor(transport: Transport) {
    this.transport = transport;
  }

  /** Connects `transport`; `onClosed` runs once when the connection ends for any reason. */
  static async open(transport: Transport, onClosed?: (error?: Error) => void): Promise<PipelinedConnection> {
    const conn = new PipelinedConnection(transport);
    conn.onClosed = onClosed;
    await transport.connect({
      reply: (id, reply) => conn.settle(id, reply),
      closed: (error) => conn.lost(error),
    });
    return conn;
  }

  /** Requests waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  get isOpen(): boolean {
    return this.closedWith === undefined;
  }

  /** Sends `request`; resolves with its success reply, rejects with the typed error of an ERROR reply. */
  request<T extends Request>(request: T, timeoutMs: number): Promise<ReplyFor[T['type']]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    // A server that did not turn the trace extension on would refuse the field: it never gets it.
    if (request.type === 'query' && request.trace !== undefined && !this.extensions.has('trace')) {
      const { trace: _, ...plain } = request;
      request = plain as T;
    }
    const id = this.allocateId();
    return new Promise<ReplyFor[T['type']]>((resolve, reject) => {
      const p: Pending = { type: request.type, resolve: resolve as (r: Response) => void, reject, timer: undefined };
      this.pending.set(id, p);
      try {
        this.transport.send(id, request);
      } catch (error) {
        this.pending.delete(id);
        reject(error as Error);
        return;
      }
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          if (this.pending.get(id) !== p) return;
          this.pending.delete(id);
          reject(new ShardTimeoutError(`${this.transport.url}: no reply to ${request.type} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Closes the transport; pending requests reject with ShardUnavailableError. */
  async close(): Promise<void> {
    this.lost(undefined);
    await this.transport.close();
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= 0xffff_ffff ? 1 : id + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private settle(id: number, reply: Response | Error): void {
    if (id === 0) {
      // A connection-level ERROR: the server could not tell which request it belongs to.
      const error = reply instanceof Error ? reply : reply.type === 'error' ? fromErrorReply(reply) : new InternalError('reply with request id 0');
      this.lost(new ShardUnavailableError(`${this.transport.url}: ${error.message}`, { cause: error }));
      void this.transport.close();
      return;
    }
    const p = this.pending.get(id);
    if (p === undefined) return; // timed out already, or a reply to nothing we sent
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (reply instanceof Error) p.reject(isRagwireError(reply) ? reply : new InternalError(reply.message, { cause: reply }));
    else if (reply.type === 'error') p.reject(fromErrorReply(reply));
    else if (reply.type !== replyTypeOf(p.type)) p.reject(new InternalError(`${this.transport.url} answered ${p.type} with ${reply.type}`));
    else p.resolve(reply);
  }

  private lost(error: Error | undefined): void {
    if (this.closedWith) return;
    this.closedWith = error ?? new ShardUnavailableError(`${this.transport.url}: connection closed`);
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(this.closedWith);
    }
    this.onClosed?.(error);
  }
}
