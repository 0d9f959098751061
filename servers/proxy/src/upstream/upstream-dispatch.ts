import type { Dispatcher } from 'undici';
import type { Cancellation } from './cancellation';

/**
 * The two ways the proxy reads an upstream answer, straight from undici's
 * dispatch handler: no `Readable` and no AbortSignal per request in between
 * (the per-request hot path). `cancellation` aborts either, also while the
 * request still waits for a pooled connection.
 */

/** What one request's answer is fed to, as the connection delivers it. */
interface AnswerSink {
  start(status: number): void;
  data(chunk: Buffer): void;
  end(): void;
  error(error: Error): void;
}

/**
 * Dispatches `options` on `pool` and feeds the answer to `sink`; `cancellation`
 * aborts the request, also while it still waits for a pooled connection (and
 * before that, fails it at once). Returns the request's controller once it
 * has one, for pause and resume.
 */
function dispatchTo(
  pool: Dispatcher,
  options: Dispatcher.DispatchOptions,
  cancellation: Cancellation,
  sink: AnswerSink,
): () => Dispatcher.DispatchController | undefined {
  let controller: Dispatcher.DispatchController | undefined;
  if (cancellation.cancelled) {
    sink.error(cancellation.reason!);
    return () => controller;
  }
  const unsubscribe = cancellation.onCancel(() => controller?.abort(cancellation.reason!));
  pool.dispatch(options, {
    onRequestStart(c) {
      controller = c;
      if (cancellation.cancelled) c.abort(cancellation.reason!);
    },
    onResponseStart: (_c, status) => sink.start(status),
    onResponseData: (_c, chunk) => sink.data(chunk),
    onResponseEnd() {
      unsubscribe();
      sink.end();
    },
    onResponseError(_c, error) {
      unsubscribe();
      sink.error(error);
    },
  });
  return () => controller;
}

/** Sends one request and collects its whole answer. */
export function collect(pool: Dispatcher, options: Dispatcher.DispatchOptions, cancellation: Cancellation): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let size = 0;
    const chunks: Buffer[] = [];
    dispatchTo(pool, options, cancellation, {
      start: (s) => (status = s),
      data(chunk) {
        chunks.push(chunk);
        size += chunk.length;
      },
      end: () => resolve({ status, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) }),
      error: reject,
    });
  });
}

/** A streamed answer whose first body chunk has arrived; `rest` yields the others in order. */
export interface OpenedStream {
  status: number;
  first: Buffer;
  rest: AsyncIterator<Buffer>;
}

/** Chunks the upstream sent ahead of the reader: past this many the upstream is paused, below half resumed. */
const HIGH_WATER_CHUNKS = 64;

/**
 * Sends one request whose answer streams, and resolves once its first body
 * chunk has arrived (so a caller may still retry elsewhere before that).
 * A status for which `discard` is true is read to its end and rejected with
 * `discarded`, keeping the connection. The upstream is paused while the
 * reader falls behind.
 */
export function openStream(
  pool: Dispatcher,
  options: Dispatcher.DispatchOptions,
  cancellation: Cancellation,
  discard: (status: number) => Error | undefined,
): Promise<OpenedStream> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let discarded: Error | undefined;
    let opened = false;
    let controller: () => Dispatcher.DispatchController | undefined = () => undefined;
    const queue = new ChunkQueue(() => controller());
    controller = dispatchTo(pool, options, cancellation, {
      start(s) {
        status = s;
        discarded = discard(s);
      },
      data(chunk) {
        if (discarded) return;
        if (opened) return queue.push(chunk);
        opened = true;
        resolve({ status, first: chunk, rest: queue });
      },
      end() {
        if (opened) return queue.end();
        reject(discarded ?? Object.assign(new Error('upstream ended the stream before any data'), { code: 'UND_ERR_SOCKET' }));
      },
      error(error) {
        if (opened) return queue.fail(error);
        reject(error);
      },
    });
  });
}

/** Chunks between the dispatch handler and one reader, with pause and resume for backpressure. */
class ChunkQueue implements AsyncIterator<Buffer> {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private error: Error | undefined;
  private paused = false;
  private waiter: { resolve(r: IteratorResult<Buffer>): void; reject(e: Error): void } | undefined;

  constructor(private readonly controller: () => Dispatcher.DispatchController | undefined) {}

  push(chunk: Buffer): void {
    if (this.waiter) {
      this.settle().resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    if (!this.paused && this.chunks.length >= HIGH_WATER_CHUNKS) {
      this.paused = true;
      this.controller()?.pause();
    }
  }

  end(): void {
    this.ended = true;
    if (this.waiter) this.settle().resolve({ value: undefined, done: true });
  }

  fail(error: Error): void {
    this.error = error;
    if (this.waiter) this.settle().reject(error);
  }

  next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.chunks.shift();
    if (chunk !== undefined) {
      if (this.paused && this.chunks.length <= HIGH_WATER_CHUNKS / 2) {
        this.paused = false;
        this.controller()?.resume();
      }
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private settle(): { resolve(r: IteratorResult<Buffer>): void; reject(e: Error): void } {
    const waiter = this.waiter!;
    this.waiter = undefined;
    return waiter;
  }
}
