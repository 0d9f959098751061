import { allowCollection, allowModel } from '../http/access';
import { clientGone, needsStreamUsage, priorityOf, sendFailedStream, sendUpstreamAnswer, withStreamUsage } from '../http/answers';
import type { Exchange } from '../http/exchange';
import { ProxyError } from '../errors';
import type { ProxyContext } from '../context';
import { relayStream } from '../http/sse-relay';
import { validateChat } from '../http/validate';
import { firstToken, traced } from '../tracing/spans';
import { augmentMessages, lastUserTurn, ragwireField, sourcesIntoFirstChunk, withSources } from './prompt';

type Body = Record<string, unknown>;

/**
 * POST /v1/chat/completions with a retrieval: retrieve (see RagGateway), put
 * the sources into the prompt by the template, forward to the chat model with
 * the same admission, routing and retries as any chat, and answer with the
 * sources: `ragwire: { collection, sources, timings }` in the body, or in a
 * stream's first chunk. Stage timings go to the dashboard.
 */
export async function ragChat(ctx: ProxyContext, ex: Exchange, body: Body): Promise<void> {
  const plan = ctx.rag.plan(body);
  const { ragwire: _, ...rest } = body;
  const forward: Body = { ...rest, model: plan.model };
  const info = validateChat(forward);
  if (!ctx.upstreams.isServed(plan.model))
    throw new ProxyError('model_not_found', `The model \`${plan.model}\` does not exist or is not served by this proxy`, 'model');
  const viaAlias = typeof body.model === 'string' && body.model !== plan.model;
  allowModel(ex.tenant, viaAlias ? (body.model as string) : plan.model);
  allowCollection(ex.tenant, plan.collection);
  if (plan.rerank) allowModel(ex.tenant, plan.rerank.model, 'ragwire.rerank.model');
  ex.model = viaAlias ? (body.model as string) : plan.model;
  if (needsStreamUsage(ex, forward)) Object.assign(forward, withStreamUsage(forward));
  const question = lastUserTurn(forward.messages as unknown[]);
  const priority = priorityOf(ex, info.priority);
  const cancellation = clientGone(ctx, ex, ex.model);
  const shardToken = ex.tenant?.shardTokens?.[plan.collection];
  const { sources, timings, embedTokens } = await ctx.rag.retrieve(plan, question, {
    priority,
    requestId: ex.id,
    cancellation,
    ...(ex.trace ? { trace: ex.trace } : {}),
    ...(shardToken ? { shardToken } : {}),
  });
  ex.onUsage?.(embedTokens); // the question's embedding counts against the key's budget too
  if (cancellation.cancelled) return;
  forward.messages = augmentMessages(forward.messages as unknown[], plan.template, sources, question);
  if (ctx.config.dashboard.enabled) {
    ctx.stages.record({ stage: 'rag_embed', ms: timings.embedMs });
    ctx.stages.record({ stage: 'rag_retrieve', ms: timings.retrieveMs });
    if (timings.rerankMs !== undefined) ctx.stages.record({ stage: 'rag_rerank', ms: timings.rerankMs });
  }
  const field = ragwireField(plan.collection, sources, timings);
  const generate = ex.trace?.child('generate', { 'ragwire.model': plan.model, 'ragwire.stream': info.stream });
  const call = {
    model: plan.model,
    path: '/v1/chat/completions',
    body: JSON.stringify(forward),
    prefixText: validateChat(forward).prefixText,
    priority,
    requestId: ex.id,
    cancellation,
    trace: generate,
  };
  if (!info.stream) {
    const answer = await traced(generate, ctx.caller.buffered(call));
    if (answer.status !== 200) return sendUpstreamAnswer(ex, answer.status, answer.body, answer.upstream.url);
    ex.headers['x-ragwire-upstream'] = answer.upstream.url;
    return ex.send(200, withSources(answer.body, field));
  }
  const answer = await traced(generate, ctx.caller.streaming(call), true);
  const upstream = answer.lease.upstream.url;
  if (answer.status !== 200) return sendFailedStream(ex, answer, generate);
  const ttftMs = ex.elapsedMs();
  firstToken(generate, ttftMs);
  ctx.metrics.ttft.observe({ model: plan.model, upstream }, ttftMs / 1000);
  if (ctx.config.dashboard.enabled) ctx.stages.record({ stage: 'rag_ttft', ms: ttftMs });
  ex.headers['x-ragwire-upstream'] = upstream;
  const relayStarted = performance.now();
  const result = await relayStream(ex.res, { ...answer, first: sourcesIntoFirstChunk(answer.first, field) }, ex.headers, cancellation, undefined, ex.onUsage);
  ex.status = result === 'done' ? 200 : result === 'interrupted' ? 502 : 499;
  generate?.end(result === 'done' ? undefined : result);
  const latency = performance.now() - relayStarted + ttftMs;
  ctx.metrics.upstreamLatency.observe({ model: plan.model, upstream }, latency / 1000);
  answer.lease.release(latency);
}
