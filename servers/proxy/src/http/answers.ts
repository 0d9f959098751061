import { Cancellation } from '../upstream/cancellation';
import { ProxyError } from '../errors';
import type { Exchange } from './exchange';
import type { ProxyContext } from '../context';
import type { TraceSpan } from '@ragwire/tracing';
import type { StreamingAnswer } from '../upstream/upstream-call';

// What every route that calls an upstream shares: the request's priority, the
// client's departure as a cancellation, and an upstream answer passed on.

/** Priority from the `x-ragwire-priority` header, else the body's `priority`; lower goes first. */
export function priorityOf(ex: Exchange, fromBody: number | undefined): number {
  const header = ex.req.headers['x-ragwire-priority'];
  if (typeof header === 'string' && header.length > 0) {
    const p = Number(header);
    if (!Number.isInteger(p)) throw new ProxyError('invalid_request', `x-ragwire-priority must be an integer, got "${header}"`, 'x-ragwire-priority');
    return p;
  }
  return fromBody ?? 0;
}

/** A cancellation that fires when the client goes away before its answer is complete. */
export function clientGone(ctx: ProxyContext, ex: Exchange, model: string): Cancellation {
  const cancellation = new Cancellation();
  ex.res.once('close', () => {
    if (!ex.res.writableFinished) {
      ctx.metrics.cancelled.inc({ model });
      ctx.log.debug({ reqId: ex.id }, 'client disconnected; cancelling upstream request');
      cancellation.cancel(new Error('client disconnected'));
    }
  });
  return cancellation;
}

/** Passes an upstream's answer on; a non-200 in OpenAI's error shape when it is not already. */
export function sendUpstreamAnswer(ex: Exchange, status: number, body: Buffer, upstream: string): void {
  let payload: Buffer | string = body;
  if (status !== 200) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown; message?: unknown };
      if (!parsed.error || typeof parsed.error !== 'object') {
        const message = typeof parsed.message === 'string' ? parsed.message : body.toString('utf8').slice(0, 500);
        payload = JSON.stringify({ error: { message, type: status < 500 ? 'invalid_request_error' : 'server_error', param: null, code: null } });
      }
    } catch {
      payload = JSON.stringify({ error: { message: body.toString('utf8').slice(0, 500), type: 'server_error', param: null, code: 'upstream_error' } });
    }
  }
  ex.headers['x-ragwire-upstream'] = upstream;
  ex.send(status, payload);
}

/** A streamed upstream answer that is not a 200: read it whole, free the lease, and pass it on as it came. */
export async function sendFailedStream(ex: Exchange, answer: StreamingAnswer, span: TraceSpan | undefined): Promise<void> {
  const upstream = answer.lease.upstream.url;
  const chunks = [answer.first];
  for (let next = await answer.rest.next(); !next.done; next = await answer.rest.next()) chunks.push(next.value);
  answer.lease.release();
  span?.end(`upstream answered ${answer.status}`);
  sendUpstreamAnswer(ex, answer.status, Buffer.concat(chunks), upstream);
}

/** Whether a stream must be asked for its usage: the key has a token budget and the client did not ask. */
export function needsStreamUsage(ex: Exchange, body: Record<string, unknown>): boolean {
  const t = ex.tenant;
  if (!t || (t.tokensPerMinute <= 0 && t.tokensPerDay <= 0) || body.stream !== true) return false;
  return (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage !== true;
}

/** The body with `stream_options.include_usage: true`. */
export function withStreamUsage(body: Record<string, unknown>): Record<string, unknown> {
  return { ...body, stream_options: { ...(body.stream_options as object | undefined), include_usage: true } };
}
