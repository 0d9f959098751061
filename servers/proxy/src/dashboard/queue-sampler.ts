import type { FastifyInstance } from 'fastify';
import type { ProxyContext } from '../server';

/** How often the admission queues are sampled; each second keeps its largest sample. */
const QUEUE_SAMPLE_MS = 250;

/**
 * Samples the admission queue depth (summed over models) into `ctx.stages`.
 * The proxy's other measurements are recorded where they happen (routes.ts):
 * `embed` and `generate` (the whole answer, streams included, for 2xx
 * answers), `generate_ttft` when the first streamed byte is relayed, and one
 * throughput count per answered OpenAI request.
 */
export function sampleQueueDepth(app: FastifyInstance, ctx: ProxyContext): void {
  const sampler = setInterval(() => {
    let depth = 0;
    for (const model of ctx.upstreams.models()) depth += ctx.admission.queueDepth(model);
    ctx.stages.recordQueueDepth(depth);
  }, QUEUE_SAMPLE_MS);
  sampler.unref();
  app.addHook('onClose', async () => clearInterval(sampler));
}
