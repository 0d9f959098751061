// A Transport for unit tests: records what is sent and answers as the test says. Not exported from the package.
import { ShardUnavailableError, type Request, type Response } from '@ragwire/protocol';
import type { Transport, TransportHandlers } from './transport';

export interface FakeShard {
  /** Transports made for this shard, newest last. */
  transports: FakeTransport[];
  /** When set, connect() fails with ShardUnavailableError. */
  down: boolean;
  /** Answers each request; return undefined to leave it pending (the test answers later). */
  answer: (request: Request, requestId: number) => Response | Error | undefined;
}

export class FakeTransport implements Transport {
  readonly sent: { id: number; request: Request }[] = [];
  private handlers: TransportHandlers | undefined;
  closed = false;

  constructor(
    readonly url: string,
    private readonly shard: FakeShard,
  ) {
    shard.transports.push(this);
  }

  async connect(handlers: TransportHandlers): Promise<void> {
    if (this.shard.down) throw new ShardUnavailableError(`${this.url}: connection refused`);
    this.handlers = handlers;
  }

  send(requestId: number, request: Request): void {
    if (this.closed) throw new ShardUnavailableError('closed');
    this.sent.push({ id: requestId, request });
    const reply = request.type === 'hello' ? ({ type: 'hello_ok', version: 1, server: 'fake' } as Response) : this.shard.answer(request, requestId);
    if (reply !== undefined) queueMicrotask(() => this.reply(requestId, reply));
  }

  reply(requestId: number, reply: Response | Error): void {
    if (!this.closed) this.handlers?.reply(requestId, reply);
  }

  /** The connection breaks (the shard died). */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers?.closed(new ShardUnavailableError(`${this.url}: connection reset`));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers?.closed();
  }
}

export function fakeShard(answer: FakeShard['answer'] = () => undefined): FakeShard {
  return { transports: [], down: false, answer };
}

/** A ShardClientOptions.transport that maps URLs to fake shards. */
export function fakeTransports(shards: Record<string, FakeShard>) {
  return (url: string): Transport => {
    const shard = shards[url];
    if (!shard) throw new Error(`no fake shard for ${url}`);
    return new FakeTransport(url, shard);
  };
}

/** A RESULT with the given (id, score) hits for one query. */
export function resultOf(hits: [string, number][]): Response {
  return { type: 'result', k: 10, counts: Uint32Array.of(hits.length), ids: hits.map(([id]) => id), scores: Float32Array.from(hits.map(([, s]) => s)) };
}
