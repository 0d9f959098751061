import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UpstreamAnswerError } from './coalescer';
import { coalescibleCompletion } from './completions-batcher';
import { ProxyError } from './errors';
import { ResponseCache } from './response-cache';
import type { ProxyContext } from './server';
import { relayStream } from './sse-relay';
import { asBody, validateChat, validateCompletion, validateEmbeddings, type GenerationRequest } from './validate';

const created = Math.floor(Date.now() / 1000);

/** Priority from the `x-ragwire-priority` header, else the body's `priority`; lower goes first. */
function priorityOf(request: FastifyRequest, fromBody: number | undefined): number {
  const header = request.headers['x-ragwire-priority'];
  if (typeof header === 'string' && header.length > 0) {
    const p = Number(header);
    if (!Number.isInteger(p)) throw new ProxyError('invalid_request', `x-ragwire-priority must be an integer, got "${header}"`, 'x-ragwire-priority');
    return p;
  }
  return fromBody ?? 0;
}

/** An AbortSignal that fires when the client goes away before its answer is complete. */
function clientGone(request: FastifyRequest, reply: FastifyReply, ctx: ProxyContext, model: string): AbortController {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) {
      ctx.metrics.cancelled.inc({ model });
      request.log.debug({ reqId: request.id }, 'client disconnected; cancelling upstream request');
      controller.abort(new Error('client disconnected'));
    }
  });
  return controller;
}

/** Passes an upstream's non-200 answer on, in OpenAI's error shape when it is not already. */
function sendUpstreamAnswer(reply: FastifyReply, status: number, body: Buffer, upstream: string): void {
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
  void reply.code(status).header('content-type', 'application/json').header('x-ragwire-upstream', upstream).send(payload);
}

function requireModel(ctx: ProxyContext, model: string): void {
  if (!ctx.upstreams.isServed(model)) throw new ProxyError('model_not_found', `The model \`${model}\` does not exist or is not served by this proxy`, 'model');
}

function withoutPriority(body: Record<string, unknown>): Record<string, unknown> {
  if (!('priority' in body)) return body;
  const { priority: _, ...rest } = body;
  return rest;
}

/** The body to send upstream: the client's own bytes unless the proxy removes its `priority` field. */
function forwardBody(body: Record<string, unknown>, request: FastifyRequest): string {
  if (!('priority' in body) && request.rawBody !== undefined) return request.rawBody;
  return JSON.stringify(withoutPriority(body));
}

/** A non-streaming completion sent through the completions batcher: its own response, split from a shared call. */
async function coalescedCompletion(ctx: ProxyContext, body: Record<string, unknown>, info: GenerationRequest, priority: number, request: FastifyRequest, reply: FastifyReply, cacheKey: string | undefined): Promise<void> {
  const { prompt, ...params } = withoutPriority(body);
  try {
    const share = await ctx.completions!.submit({ model: info.model, prompt: prompt as string, params, priority, requestId: request.id });
    if (cacheKey) {
      ctx.cache!.set(cacheKey, Buffer.from(share.body));
      void reply.header('x-ragwire-cache', 'miss');
    }
    ctx.metrics.requests.inc({ model: info.model, route: '/v1/completions', status: 200 });
    return void reply.header('content-type', 'application/json').header('x-ragwire-coalesced', String(share.coalesced)).send(share.body);
  } catch (error) {
    if (error instanceof UpstreamAnswerError) {
      ctx.metrics.requests.inc({ model: info.model, route: '/v1/completions', status: error.status });
      return sendUpstreamAnswer(reply, error.status, error.body, 'batch');
    }
    throw error;
  }
}

async function generation(ctx: ProxyContext, path: string, info: GenerationRequest, body: Record<string, unknown>, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  requireModel(ctx, info.model);
  const priority = priorityOf(request, info.priority);
  const cacheKey = ctx.cache && ResponseCache.eligible(body) ? ctx.cache.key(path, body) : undefined;
  if (cacheKey) {
    const hit = ctx.cache!.get(cacheKey);
    ctx.metrics.cache.inc({ result: hit ? 'hit' : 'miss' });
    if (hit) {
      ctx.metrics.requests.inc({ model: info.model, route: path, status: 200 });
      return void reply.header('content-type', 'application/json').header('x-ragwire-cache', 'hit').send(hit);
    }
  }
  if (ctx.completions && path === '/v1/completions' && coalescibleCompletion(body)) return coalescedCompletion(ctx, body, info, priority, request, reply, cacheKey);
  const abort = clientGone(request, reply, ctx, info.model);
  const call = { model: info.model, path, body: forwardBody(body, request), prefixText: info.prefixText, priority, requestId: request.id, signal: abort.signal };
  if (!info.stream) {
    const answer = await ctx.caller.buffered(call);
    if (cacheKey && answer.status === 200) {
      ctx.cache!.set(cacheKey, answer.body);
      void reply.header('x-ragwire-cache', 'miss');
    }
    ctx.metrics.requests.inc({ model: info.model, route: path, status: answer.status });
    return sendUpstreamAnswer(reply, answer.status, answer.body, answer.upstream.url);
  }
  const answer = await ctx.caller.streaming(call);
  const upstream = answer.lease.upstream.url;
  if (answer.status !== 200) {
    const chunks = [answer.first];
    for (let next = await answer.rest.next(); !next.done; next = await answer.rest.next()) chunks.push(next.value);
    answer.lease.release();
    ctx.metrics.requests.inc({ model: info.model, route: path, status: answer.status });
    return sendUpstreamAnswer(reply, answer.status, Buffer.concat(chunks), upstream);
  }
  ctx.metrics.ttft.observe({ model: info.model, upstream }, reply.elapsedTime / 1000);
  ctx.stages.record({ stage: 'generate_ttft', ms: reply.elapsedTime });
  reply.hijack();
  const started = performance.now() - reply.elapsedTime;
  const outcome = await relayStream(reply.raw, answer, { 'x-request-id': request.id, 'x-ragwire-upstream': upstream }, abort.signal);
  const latency = performance.now() - started;
  ctx.metrics.upstreamLatency.observe({ model: info.model, upstream }, latency / 1000);
  answer.lease.release(latency);
  ctx.metrics.requests.inc({ model: info.model, route: path, status: outcome === 'done' ? 200 : outcome === 'interrupted' ? 502 : 499 });
  if (outcome === 'interrupted') request.log.warn({ reqId: request.id, upstream }, 'upstream stream interrupted');
}

/** Registers the OpenAI-compatible routes. */
export function registerOpenAIRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  app.get('/v1/models', async () => ({
    object: 'list',
    data: ctx.upstreams.models().map((id) => ({ id, object: 'model', created, owned_by: 'ragwire-proxy' })),
  }));

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = asBody(request.body);
    return generation(ctx, '/v1/chat/completions', validateChat(body), body, request, reply);
  });

  app.post('/v1/completions', async (request, reply) => {
    const body = asBody(request.body);
    return generation(ctx, '/v1/completions', validateCompletion(body), body, request, reply);
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const body = asBody(request.body);
    const info = validateEmbeddings(body);
    requireModel(ctx, info.model);
    const priority = priorityOf(request, info.priority);
    if (!ctx.config.embeddingsBatching.enabled) {
      const abort = clientGone(request, reply, ctx, info.model);
      const answer = await ctx.caller.buffered({ model: info.model, path: '/v1/embeddings', body: forwardBody(body, request), priority, requestId: request.id, signal: abort.signal });
      ctx.metrics.requests.inc({ model: info.model, route: '/v1/embeddings', status: answer.status });
      return sendUpstreamAnswer(reply, answer.status, answer.body, answer.upstream.url);
    }
    try {
      const share = await ctx.batcher.submit({ model: info.model, inputs: info.inputs, dimensions: info.dimensions, priority, requestId: request.id });
      const data = share.embeddings.map((e, index) => ({ object: 'embedding', index, embedding: encode(e, info.format) }));
      ctx.metrics.requests.inc({ model: info.model, route: '/v1/embeddings', status: 200 });
      return reply.header('content-type', 'application/json').send(JSON.stringify({
        object: 'list', data, model: info.model, usage: { prompt_tokens: share.promptTokens, total_tokens: share.promptTokens },
      }));
    } catch (error) {
      if (error instanceof UpstreamAnswerError) return sendUpstreamAnswer(reply, error.status, error.body, 'batch');
      throw error;
    }
  });
}

/** An embedding in the format the client asked for, from whichever the upstream sent. */
function encode(embedding: string | number[], format: 'float' | 'base64'): string | number[] {
  if (format === 'base64') return typeof embedding === 'string' ? embedding : Buffer.from(new Float32Array(embedding).buffer).toString('base64');
  if (typeof embedding !== 'string') return embedding;
  const bytes = Buffer.from(embedding, 'base64');
  // Copy: a pooled Buffer's offset need not be 4-byte aligned.
  return Array.from(new Float32Array(new Uint8Array(bytes).buffer));
}
