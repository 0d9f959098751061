import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { AdmissionController, Lease } from './admission';
import { delay, type Cancellation } from './cancellation';
import { collect, openStream } from './upstream-dispatch';
import type { ProxyConfig } from '../config';
import { ProxyError } from '../errors';
import { child, type ProxyMetrics } from '../metrics';
import type { Upstream } from './upstream';
import type { UpstreamSet } from './upstream-set';
import type { TraceSpan } from '@ragwire/tracing';

export interface UpstreamCall {
  model: string;
  path: string;
  /** The JSON body to send, already serialized (or the client's own bytes). */
  body: string | Buffer;
  prefixText?: string;
  priority: number;
  requestId: string;
  /** Fires when the client goes away: the upstream request is cancelled. */
  cancellation: Cancellation;
  /** The span this call's admission wait and attempts are children of (tracing on); its attempt's traceparent goes upstream. */
  trace?: TraceSpan;
}

/** A buffered upstream answer; the lease is already released. */
export interface BufferedAnswer {
  status: number;
  body: Buffer;
  upstream: Upstream;
}

/** A streaming upstream answer whose first body chunk has arrived; release the lease when done. */
export interface StreamingAnswer {
  lease: Lease;
  status: number;
  first: Buffer;
  rest: AsyncIterator<Buffer>;
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** Upstream statuses worth another attempt, elsewhere if possible. */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code !== undefined && CONNECTION_ERRORS.has(code);
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

/**
 * Calls upstreams with admission, routing, retries and failover: an attempt
 * that fails before anything reached the client (connection refused or
 * reset, a retryable status, a body cut short) is retried on another
 * upstream after a jittered exponential backoff. The client's abort cancels
 * the upstream request at once.
 */
export class UpstreamCaller {
  constructor(
    private readonly config: Readonly<ProxyConfig>,
    private readonly admission: AdmissionController,
    private readonly upstreams: UpstreamSet,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
  ) {}

  /** Sends the call and reads the whole answer; for non-streaming requests. */
  buffered(call: UpstreamCall): Promise<BufferedAnswer> {
    return this.attempts(call, async (lease, last, span) => {
      const started = performance.now();
      const answer = await collect(lease.upstream.pool, this.dispatchOptions(call, span), call.cancellation);
      span?.set({ 'http.response.status_code': answer.status });
      const retry = retryable(answer.status, last);
      if (retry) throw retry;
      const latency = performance.now() - started;
      child(this.metrics.upstreamLatency, call.model, lease.upstream.url).observe(latency / 1000);
      lease.release(latency);
      return { status: answer.status, body: answer.body, upstream: lease.upstream };
    });
  }

  /** Sends the call and waits for the first body chunk; for streams, which are never retried after it. */
  streaming(call: UpstreamCall): Promise<StreamingAnswer> {
    return this.attempts(call, async (lease, last, span) => {
      const opened = await openStream(lease.upstream.pool, this.dispatchOptions(call, span), call.cancellation, (status) => retryable(status, last));
      span?.set({ 'http.response.status_code': opened.status });
      return { lease, ...opened };
    });
  }

  private dispatchOptions(call: UpstreamCall, attempt?: TraceSpan): Dispatcher.DispatchOptions {
    const headers = ['content-type', 'application/json', 'x-request-id', call.requestId];
    if (attempt) headers.push('traceparent', attempt.traceparent());
    return { method: 'POST', path: call.path, headers, body: call.body };
  }

  /** Runs `send` on an admitted upstream, retrying elsewhere as the class says; `last` is true on the final attempt. */
  private async attempts<T>(call: UpstreamCall, send: (lease: Lease, last: boolean, span: TraceSpan | undefined) => Promise<T>): Promise<T> {
    const { maxAttempts, baseDelayMs, maxDelayMs } = this.config.retries;
    const failed = new Set<Upstream>();
    let lastError: unknown;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0) {
        await delay(Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)), call.cancellation);
      }
      const waitStart = performance.now();
      let lease: Lease;
      try {
        lease = await this.admission.acquire({
          model: call.model,
          prefixText: call.prefixText,
          priority: attempt > 0 ? -1e9 : call.priority,
          cancellation: call.cancellation,
          exclude: failed,
        });
      } catch (error) {
        call.trace?.child('admission.wait', { 'ragwire.model': call.model }, waitStart).end((error as Error).message);
        throw error;
      }
      // A wait is a span only when the call queued: an immediate admission costs no span.
      if (call.trace && lease.queuedMs > 0) call.trace.child('admission.wait', { 'ragwire.model': call.model }, waitStart).end();
      const span = this.attemptSpan(call.trace, lease, call.path, attempt);
      try {
        const result = await send(lease, attempt + 1 === maxAttempts, span);
        if (span !== call.trace) span?.end();
        return result;
      } catch (error) {
        if (span === call.trace) span?.event('upstream.attempt.failed', { 'server.address': lease.upstream.url, 'error.message': (error as Error).message });
        else span?.end((error as Error).message);
        lease.release();
        if (call.cancellation.cancelled) throw call.cancellation.reason;
        lastError = error;
        failed.add(lease.upstream);
        if (isConnectionError(error)) this.upstreams.reportFailure(lease.upstream);
        if (isTimeout(error)) throw new ProxyError('upstream_timeout', `upstream ${lease.upstream.url} timed out: ${(error as Error).message}`);
        if (attempt + 1 < maxAttempts) {
          this.metrics.retries.inc({ model: call.model, upstream: lease.upstream.url });
          this.log.warn(
            { reqId: call.requestId, upstream: lease.upstream.url, attempt: attempt + 1, err: (error as Error).message },
            'upstream attempt failed; retrying',
          );
        }
      }
    }
    throw new ProxyError('upstream_error', `all ${maxAttempts} upstream attempts failed; last: ${(lastError as Error)?.message ?? 'unknown error'}`);
  }

  /**
   * Where an attempt is traced: the first on the call's own span (its upstream as an attribute; the
   * traceparent sent upstream is that span's), each retry as an `upstream.attempt` child. One span
   * fewer per request in the common case, which keeps tracing within its CPU budget.
   */
  private attemptSpan(trace: TraceSpan | undefined, lease: Lease, path: string, attempt: number): TraceSpan | undefined {
    if (!trace) return undefined;
    if (attempt === 0) {
      trace.set({ 'server.address': lease.upstream.url });
      return trace;
    }
    return trace.child('upstream.attempt', { 'server.address': lease.upstream.url, 'url.path': path, 'ragwire.attempt': attempt + 1 });
  }
}

/** The error that sends an attempt elsewhere when `status` is worth another attempt and this is not the last. */
function retryable(status: number, last: boolean): Error | undefined {
  return !last && RETRYABLE_STATUS.has(status) ? Object.assign(new Error(`upstream answered ${status}`), { status }) : undefined;
}
