import type { FastifyInstance } from 'fastify';
import type { ProxyContext } from '../server';

/** The stage each OpenAI route's whole duration is recorded under; these routes also count towards throughput. */
const STAGE_OF_ROUTE: Record<string, string> = {
  '/v1/embeddings': 'embed',
  '/v1/chat/completions': 'generate',
  '/v1/completions': 'generate',
};

/** How often the admission queues are sampled; each second keeps its largest sample. */
const QUEUE_SAMPLE_MS = 250;

/**
 * Feeds the proxy's own measurements to `ctx.stages`: `embed` and `generate`
 * (the whole answer, streams included, for 2xx answers), one throughput count
 * per answered OpenAI request, and the admission queue depth (summed over
 * models). `generate_ttft` is recorded where the first streamed byte is
 * relayed (routes.ts).
 */
export function recordProxyStages(app: FastifyInstance, ctx: ProxyContext): void {
  app.addHook('onResponse', async (request, reply) => {
    const stage = STAGE_OF_ROUTE[request.routeOptions.url ?? ''];
    if (stage === undefined) return;
    ctx.stages.countRequest();
    if (reply.statusCode < 300) ctx.stages.record({ stage, ms: reply.elapsedTime });
  });

  const sampler = setInterval(() => {
    let depth = 0;
    for (const model of ctx.upstreams.models()) depth += ctx.admission.queueDepth(model);
    ctx.stages.recordQueueDepth(depth);
  }, QUEUE_SAMPLE_MS);
  sampler.unref();
  app.addHook('onClose', async () => clearInterval(sampler));
}
