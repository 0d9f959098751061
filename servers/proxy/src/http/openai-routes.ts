import { UpstreamAnswerError } from '../batching/coalescer';
import { coalescibleCompletion } from '../batching/completions-batcher';
import { allowModel } from './access';
import { clientGone, needsStreamUsage, priorityOf, sendFailedStream, sendUpstreamAnswer, withStreamUsage } from './answers';
import { ProxyError } from '../errors';
import type { Exchange } from './exchange';
import type { RequestPipeline } from './pipeline';
import { ResponseCache } from './response-cache';
import type { ProxyContext } from '../context';
import { passthrough, PASSTHROUGH_ROUTES } from './passthrough';
import { ragChat } from '../rag/chat-route';
import { relayStream } from './sse-relay';
import { firstToken } from '../tracing/spans';
import { asBody, validateChat, validateCompletion, validateEmbeddings, type GenerationRequest } from './validate';

type Body = Record<string, unknown>;

/** One OpenAI POST route: the dashboard stage its duration counts towards, and its handler. */
interface OpenAIRoute {
  stage: 'embed' | 'generate' | 'pool' | 'tokenize';
  handle(ctx: ProxyContext, ex: Exchange, body: Body, bytes: Buffer): Promise<void>;
}

function requireModel(ctx: ProxyContext, ex: Exchange, model: string): void {
  if (!ctx.upstreams.isServed(model)) throw new ProxyError('model_not_found', `The model \`${model}\` does not exist or is not served by this proxy`, 'model');
  allowModel(ex.tenant, model);
  ex.model = model;
}

function withoutPriority(body: Body): Body {
  if (!('priority' in body)) return body;
  const { priority: _, ...rest } = body;
  return rest;
}

/**
 * The body to send upstream: the client's own bytes unless the proxy removes
 * its `priority` field, or asks a stream for its usage (a key with a token
 * budget: its streams are counted too, so they carry the usage chunk).
 */
function forwardBody(body: Body, bytes: Buffer, ex?: Exchange): Buffer | string {
  if (ex && needsStreamUsage(ex, body)) return JSON.stringify(withStreamUsage(withoutPriority(body)));
  return 'priority' in body ? JSON.stringify(withoutPriority(body)) : bytes;
}

/** A non-streaming completion sent through the completions batcher: its own response, split from a shared call. */
async function coalescedCompletion(
  ctx: ProxyContext,
  ex: Exchange,
  body: Body,
  info: GenerationRequest,
  priority: number,
  cacheKey: string | undefined,
): Promise<void> {
  const { prompt, ...params } = withoutPriority(body);
  try {
    const share = await ctx.completions!.submit({ model: info.model, prompt: prompt as string, params, priority, requestId: ex.id });
    if (cacheKey) {
      ctx.cache!.set(cacheKey, Buffer.from(share.body));
      ex.headers['x-ragwire-cache'] = 'miss';
    }
    ex.headers['x-ragwire-coalesced'] = String(share.coalesced);
    ex.send(200, share.body);
  } catch (error) {
    if (error instanceof UpstreamAnswerError) return sendUpstreamAnswer(ex, error.status, error.body, 'batch');
    throw error;
  }
}

async function generation(ctx: ProxyContext, ex: Exchange, info: GenerationRequest, body: Body, bytes: Buffer): Promise<void> {
  requireModel(ctx, ex, info.model);
  const path = ex.route;
  const priority = priorityOf(ex, info.priority);
  const cacheKey = ctx.cache && ResponseCache.eligible(body) ? ctx.cache.key(path, body) : undefined;
  if (cacheKey) {
    const hit = ctx.cache!.get(cacheKey);
    ctx.metrics.cache.inc({ result: hit ? 'hit' : 'miss' });
    if (hit) {
      ex.headers['x-ragwire-cache'] = 'hit';
      return ex.send(200, hit);
    }
  }
  if (ctx.completions && path === '/v1/completions' && coalescibleCompletion(body)) return coalescedCompletion(ctx, ex, body, info, priority, cacheKey);
  const cancellation = clientGone(ctx, ex, info.model);
  // A plain generation is the request's whole work: it is traced on the request's own span (one span
  // per request, docs/operations.md "Traces"); RAG's generate stage has its own (rag/chat-route.ts).
  const span = ex.trace;
  span?.set({ 'ragwire.stream': info.stream });
  const call = {
    model: info.model,
    path,
    body: forwardBody(body, bytes, ex),
    prefixText: info.prefixText,
    priority,
    requestId: ex.id,
    cancellation,
    trace: span,
  };
  if (!info.stream) {
    const answer = await ctx.caller.buffered(call);
    if (cacheKey && answer.status === 200) {
      ctx.cache!.set(cacheKey, answer.body);
      ex.headers['x-ragwire-cache'] = 'miss';
    }
    return sendUpstreamAnswer(ex, answer.status, answer.body, answer.upstream.url);
  }
  const answer = await ctx.caller.streaming(call);
  const upstream = answer.lease.upstream.url;
  if (answer.status !== 200) return sendFailedStream(ex, answer, undefined);
  const ttftMs = ex.elapsedMs();
  firstToken(span, ttftMs);
  ctx.metrics.ttft.observe({ model: info.model, upstream }, ttftMs / 1000);
  ctx.stages.record({ stage: 'generate_ttft', ms: ttftMs });
  ex.headers['x-ragwire-upstream'] = upstream;
  const relayStarted = performance.now();
  const result = await relayStream(ex.res, answer, ex.headers, cancellation, undefined, ex.onUsage);
  ex.status = result === 'done' ? 200 : result === 'interrupted' ? 502 : 499;
  const latency = performance.now() - relayStarted + ttftMs;
  ctx.metrics.upstreamLatency.observe({ model: info.model, upstream }, latency / 1000);
  answer.lease.release(latency);
  if (result === 'interrupted') ctx.log.warn({ reqId: ex.id, upstream }, 'upstream stream interrupted');
}

async function embeddings(ctx: ProxyContext, ex: Exchange, body: Body, bytes: Buffer): Promise<void> {
  const info = validateEmbeddings(body);
  requireModel(ctx, ex, info.model);
  const priority = priorityOf(ex, info.priority);
  if (!ctx.config.embeddingsBatching.enabled) {
    const cancellation = clientGone(ctx, ex, info.model);
    const answer = await ctx.caller.buffered({
      model: info.model,
      path: '/v1/embeddings',
      body: forwardBody(body, bytes),
      priority,
      requestId: ex.id,
      cancellation,
      ...(ex.trace ? { trace: ex.trace } : {}),
    });
    return sendUpstreamAnswer(ex, answer.status, answer.body, answer.upstream.url);
  }
  try {
    const share = await ctx.batcher.submit({
      model: info.model,
      inputs: info.inputs,
      dimensions: info.dimensions,
      priority,
      requestId: ex.id,
      ...(ex.trace ? { trace: ex.trace } : {}),
    });
    const data = share.embeddings.map((e, index) => ({ object: 'embedding', index, embedding: encode(e, info.format) }));
    ex.send(200, JSON.stringify({ object: 'list', data, model: info.model, usage: { prompt_tokens: share.promptTokens, total_tokens: share.promptTokens } }));
  } catch (error) {
    if (error instanceof UpstreamAnswerError) return sendUpstreamAnswer(ex, error.status, error.body, 'batch');
    throw error;
  }
}

/** An embedding in the format the client asked for, from whichever the upstream sent. */
function encode(embedding: string | number[], format: 'float' | 'base64'): string | number[] {
  if (format === 'base64') return typeof embedding === 'string' ? embedding : Buffer.from(new Float32Array(embedding).buffer).toString('base64');
  if (typeof embedding !== 'string') return embedding;
  const bytes = Buffer.from(embedding, 'base64');
  // Copy: a pooled Buffer's offset need not be 4-byte aligned.
  return Array.from(new Float32Array(new Uint8Array(bytes).buffer));
}

/**
 * The OpenAI-compatible POST routes and the rest of vLLM's API, added to the
 * request pipeline (which does the request id, API key and rate limit,
 * bounded JSON body, error shaping and counting): chat (with retrieval when
 * asked), completions, embeddings, and the passthrough routes.
 */
export function registerOpenAIRoutes(pipeline: RequestPipeline, ctx: ProxyContext): void {
  const add = (path: string, stage: OpenAIRoute['stage'], handle: OpenAIRoute['handle']) =>
    pipeline.add('POST', path, { access: 'key', json: true, stage, handle: (ex, value, bytes) => handle(ctx, ex, asBody(value), bytes) });
  add('/v1/chat/completions', 'generate', (ctx, ex, body, bytes) =>
    ctx.rag.wants(body) ? ragChat(ctx, ex, body) : generation(ctx, ex, validateChat(body), body, bytes),
  );
  add('/v1/completions', 'generate', (ctx, ex, body, bytes) => generation(ctx, ex, validateCompletion(body), body, bytes));
  add('/v1/embeddings', 'embed', embeddings);
  for (const [path, stage] of PASSTHROUGH_ROUTES) add(path, stage, passthrough);
}
