import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { AdmissionController, Lease } from './admission';
import type { ProxyConfig } from './config';
import { ProxyError } from './errors';
import type { ProxyMetrics } from './metrics';
import type { Upstream } from './upstream';
import type { UpstreamSet } from './upstream-set';

export interface UpstreamCall {
  model: string;
  path: string;
  /** The JSON body to send, already serialized. */
  body: string;
  prefixText?: string;
  priority: number;
  requestId: string;
  /** Aborted when the client goes away: the upstream request is cancelled. */
  signal: AbortSignal;
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

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'EHOSTUNREACH', 'ENETUNREACH']);
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
    return this.attempts(call, async (lease, res, started) => {
      const body = Buffer.from(await res.body.arrayBuffer());
      const latency = performance.now() - started;
      this.metrics.upstreamLatency.observe({ model: call.model, upstream: lease.upstream.url }, latency / 1000);
      lease.release(latency);
      return { status: res.statusCode, body, upstream: lease.upstream };
    });
  }

  /** Sends the call and waits for the first body chunk; for streams, which are never retried after it. */
  streaming(call: UpstreamCall): Promise<StreamingAnswer> {
    return this.attempts(call, async (lease, res) => {
      const rest = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      const first = await rest.next();
      if (first.done) throw Object.assign(new Error('upstream ended the stream before any data'), { code: 'UND_ERR_SOCKET' });
      return { lease, status: res.statusCode, first: first.value, rest };
    });
  }

  private async attempts<T>(call: UpstreamCall, read: (lease: Lease, res: Dispatcher.ResponseData, started: number) => Promise<T>): Promise<T> {
    const { maxAttempts, baseDelayMs, maxDelayMs } = this.config.retries;
    const failed = new Set<Upstream>();
    let lastError: unknown;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0) {
        await sleep(Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)), undefined, { signal: call.signal }).catch(() => {});
        if (call.signal.aborted) throw call.signal.reason;
      }
      const lease = await this.admission.acquire({ model: call.model, prefixText: call.prefixText, priority: attempt > 0 ? -1e9 : call.priority, signal: call.signal, exclude: failed });
      const started = performance.now();
      let res: Dispatcher.ResponseData | undefined;
      try {
        res = await lease.upstream.pool.request({
          method: 'POST',
          path: call.path,
          headers: { 'content-type': 'application/json', 'x-request-id': call.requestId },
          body: call.body,
          signal: call.signal,
        });
        if (RETRYABLE_STATUS.has(res.statusCode) && attempt + 1 < maxAttempts) {
          await res.body.dump().catch(() => {});
          throw Object.assign(new Error(`upstream answered ${res.statusCode}`), { status: res.statusCode });
        }
        return await read(lease, res, started);
      } catch (error) {
        lease.release();
        if (res) res.body.destroy();
        if (call.signal.aborted) throw call.signal.reason;
        lastError = error;
        failed.add(lease.upstream);
        if (isConnectionError(error)) this.upstreams.reportFailure(lease.upstream);
        if (isTimeout(error)) throw new ProxyError('upstream_timeout', `upstream ${lease.upstream.url} timed out: ${(error as Error).message}`);
        if (attempt + 1 < maxAttempts) {
          this.metrics.retries.inc({ model: call.model, upstream: lease.upstream.url });
          this.log.warn({ reqId: call.requestId, upstream: lease.upstream.url, attempt: attempt + 1, err: (error as Error).message }, 'upstream attempt failed; retrying');
        }
      }
    }
    throw new ProxyError('upstream_error', `all ${maxAttempts} upstream attempts failed; last: ${(lastError as Error)?.message ?? 'unknown error'}`);
  }
}
