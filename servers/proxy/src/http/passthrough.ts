import { allowModel } from './access';
import { clientGone, priorityOf, sendUpstreamAnswer } from './answers';
import type { Exchange } from './exchange';
import { ProxyError } from '../errors';
import type { ProxyContext } from '../context';
import { relayStream } from './sse-relay';
import { firstToken } from '../tracing/spans';

type Body = Record<string, unknown>;

/** The rest of vLLM's API, passed through: which paths, and the dashboard stage each counts towards. */
export const PASSTHROUGH_ROUTES: ReadonlyMap<string, 'pool' | 'tokenize' | 'generate'> = new Map([
  ['/v1/rerank', 'pool'],
  ['/rerank', 'pool'],
  ['/v2/rerank', 'pool'],
  ['/score', 'pool'],
  ['/v1/score', 'pool'],
  ['/pooling', 'pool'],
  ['/classify', 'pool'],
  ['/tokenize', 'tokenize'],
  ['/detokenize', 'tokenize'],
  ['/v1/responses', 'generate'],
] as const);

/** The event that ends a complete Responses stream (it sends no `[DONE]`). */
const RESPONSES_END = /event: response\.(completed|incomplete|failed)\b|"type":"response\.(completed|incomplete|failed)"/;

/** Routes where vLLM makes `model` optional: the proxy picks the first model it serves. */
const MODEL_OPTIONAL = new Set(['/tokenize', '/detokenize']);

/**
 * One of vLLM's other routes (rerank, score, pooling, classify, tokenize,
 * detokenize, responses), with the admission, routing, retries,
 * cancellation, metrics and auth of chat: the body goes upstream as the
 * client sent it (less the proxy's `priority`), the answer comes back as the
 * upstream sent it. Only `/v1/responses` streams.
 */
export async function passthrough(ctx: ProxyContext, ex: Exchange, body: Body, bytes: Buffer): Promise<void> {
  const path = ex.route;
  let model = body.model;
  if (model === undefined && MODEL_OPTIONAL.has(path)) model = ctx.upstreams.models()[0];
  if (typeof model !== 'string' || model.length === 0)
    throw new ProxyError('invalid_request', `model must be a non-empty string, got ${JSON.stringify(model)}`, 'model');
  if (!ctx.upstreams.isServed(model)) throw new ProxyError('model_not_found', `The model \`${model}\` does not exist or is not served by this proxy`, 'model');
  allowModel(ex.tenant, model);
  ex.model = model;
  const bodyPriority = body.priority;
  if (bodyPriority !== undefined && !Number.isInteger(bodyPriority))
    throw new ProxyError('invalid_request', `priority must be an integer, got ${JSON.stringify(bodyPriority)}`, 'priority');
  const priority = priorityOf(ex, bodyPriority as number | undefined);
  const stream = body.stream === true;
  if (stream && path !== '/v1/responses') throw new ProxyError('invalid_request', `${path} does not stream`, 'stream');
  let forward: Body | Buffer = bytes;
  if (body.model === undefined || 'priority' in body) {
    const { priority: _, ...rest } = body;
    forward = { ...rest, model };
  }
  const cancellation = clientGone(ctx, ex, model);
  // Traced on the request's own span: the upstream call is the request's whole work.
  const span = ex.trace;
  span?.set({ 'url.path': path });
  const call = {
    model,
    path,
    body: Buffer.isBuffer(forward) ? forward : JSON.stringify(forward),
    prefixText: prefixOf(body),
    priority,
    requestId: ex.id,
    cancellation,
    trace: span,
  };
  if (!stream) {
    const answer = await ctx.caller.buffered(call);
    return sendUpstreamAnswer(ex, answer.status, answer.body, answer.upstream.url);
  }
  const answer = await ctx.caller.streaming(call);
  const upstream = answer.lease.upstream.url;
  if (answer.status !== 200) {
    const chunks = [answer.first];
    for (let next = await answer.rest.next(); !next.done; next = await answer.rest.next()) chunks.push(next.value);
    answer.lease.release();
    return sendUpstreamAnswer(ex, answer.status, Buffer.concat(chunks), upstream);
  }
  const ttftMs = ex.elapsedMs();
  firstToken(span, ttftMs);
  ctx.metrics.ttft.observe({ model, upstream }, ttftMs / 1000);
  ex.headers['x-ragwire-upstream'] = upstream;
  const started = performance.now();
  const result = await relayStream(ex.res, answer, ex.headers, cancellation, RESPONSES_END, ex.onUsage);
  ex.status = result === 'done' ? 200 : result === 'interrupted' ? 502 : 499;
  const latency = performance.now() - started + ttftMs;
  ctx.metrics.upstreamLatency.observe({ model, upstream }, latency / 1000);
  answer.lease.release(latency);
}

/** Prompt text for prefix affinity: the Responses API's instructions and input (other routes have none worth it). */
function prefixOf(body: Body): string | undefined {
  if (typeof body.input === 'string') return `${typeof body.instructions === 'string' ? body.instructions : ''}\n${body.input}`;
  return undefined;
}
