import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProxyError } from '../errors';
import type { ProxyContext } from '../server';
import { AbRunner, type DashboardHooks } from './ab-runner';
import { loadDashboardAssets } from './assets';
import { StageQuota } from './stage-quota';
import type { StageSample } from './stage-recorder';

/** Most samples one `POST /dashboard/api/stages` may carry. */
export const MAX_SAMPLES_PER_POST = 1000;
/** Longest A/B question accepted, in characters. */
const MAX_QUESTION_CHARS = 2000;
/** Stage names and shard labels: short, printable, no spaces. */
const LABEL = /^[\w.:@/-]{1,64}$/;
/** Longest stage duration accepted: an hour. */
const MAX_MS = 3_600_000;

/** Whether a request path belongs to the dashboard (open, like /metrics). */
export function isDashboardPath(path: string): boolean {
  return path === '/dashboard' || path.startsWith('/dashboard/');
}

/** Whether a path is the dashboard's API (series, stages, A/B): keyed when keys are configured. */
export function isDashboardApiPath(path: string): boolean {
  return path.startsWith('/dashboard/api/');
}

/** Who sent each dashboard API request (see AccessControl.dashboardSender), set by the proxy's auth hook. */
export const dashboardSenders = new WeakMap<FastifyRequest, string>();

/** Rounds to the microsecond: the JSON stays short and nothing visible is lost. */
const us = (ms: number) => Math.round(ms * 1000) / 1000;

/** Validates a `POST /dashboard/api/stages` body into samples; throws `invalid_request` naming the bad field. */
export function parseStageSamples(body: unknown): StageSample[] {
  const samples = (body as { samples?: unknown } | undefined)?.samples;
  if (!Array.isArray(samples)) throw new ProxyError('invalid_request', 'the body must be {"samples": [{"stage", "ms", "shard"?}, ...]}', 'samples');
  if (samples.length === 0 || samples.length > MAX_SAMPLES_PER_POST) {
    throw new ProxyError('invalid_request', `samples must hold 1 to ${MAX_SAMPLES_PER_POST} entries, got ${samples.length}`, 'samples');
  }
  return samples.map((raw: unknown, i) => {
    const param = `samples[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ProxyError('invalid_request', `${param} must be an object`, param);
    const { stage, ms, shard, ...rest } = raw as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw new ProxyError('invalid_request', `${param}.${unknown} is not a field (stage, ms, shard)`, `${param}.${unknown}`);
    if (typeof stage !== 'string' || !LABEL.test(stage)) {
      throw new ProxyError('invalid_request', `${param}.stage must be 1 to 64 letters, digits or _.:@/-, got ${JSON.stringify(stage)}`, `${param}.stage`);
    }
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_MS) {
      throw new ProxyError('invalid_request', `${param}.ms must be a number of milliseconds in [0, ${MAX_MS}], got ${JSON.stringify(ms)}`, `${param}.ms`);
    }
    if (shard === undefined) return { stage, ms };
    const label = typeof shard === 'number' && Number.isInteger(shard) && shard >= 0 ? String(shard) : shard;
    if (typeof label !== 'string' || !LABEL.test(label)) {
      throw new ProxyError('invalid_request', `${param}.shard must be a non-negative integer or 1 to 64 letters, digits or _.:@/-, got ${JSON.stringify(shard)}`, `${param}.shard`);
    }
    return { stage, ms, shard: label };
  });
}

/**
 * The dashboard: `GET /dashboard` (the page), `GET /dashboard/assets/:name`
 * (its script and stylesheet, and uPlot's), `GET /dashboard/api/series` (what
 * the page polls), `POST /dashboard/api/stages` (stage timings from other
 * processes) and `POST /dashboard/api/ab` (runs the A/B hook).
 */
export function registerDashboardRoutes(app: FastifyInstance, ctx: ProxyContext, hooks: DashboardHooks = {}): void {
  const assets = loadDashboardAssets();
  const ab = new AbRunner(hooks, ctx.config.dashboard.abTimeoutMs);
  const page = assets.get('index.html')!;
  const quota = new StageQuota(ctx.config.dashboardApi.stagesPerSender, ctx.config.dashboardApi.samplesPerSenderPerSecond);

  app.get('/dashboard', async (_request, reply) => reply.header('content-type', page.contentType).header('cache-control', 'no-cache').send(page.body));

  app.get<{ Params: { name: string } }>('/dashboard/assets/:name', async (request, reply) => {
    const file = request.params.name === 'index.html' ? undefined : assets.get(request.params.name);
    if (!file) throw new ProxyError('not_found', `no dashboard asset "${request.params.name}"`);
    return reply.header('content-type', file.contentType).header('cache-control', 'no-cache').send(file.body);
  });

  app.get('/dashboard/api/series', async () => {
    const { stages } = ctx;
    const series: Record<string, { t: number[]; p50: number[]; p99: number[]; count: number[] }> = {};
    for (const name of stages.stageNames()) {
      const s = stages.stageSeries(name);
      series[name] = { t: s.t, p50: s.p50.map(us), p99: s.p99.map(us), count: s.count };
    }
    return {
      now: Date.now() / 1000,
      windowSeconds: stages.windowSeconds,
      shardWindowSeconds: stages.shardWindowSeconds,
      stages: series,
      throughput: stages.throughput(),
      queueDepth: stages.queueDepth(),
      shards: stages.shardLatencies().map((s) => ({ ...s, p50: us(s.p50), p99: us(s.p99) })),
      abAvailable: ab.available,
      ab: ab.lastReport ?? null,
    };
  });

  app.post('/dashboard/api/stages', async (request) => {
    const samples = parseStageSamples(request.body);
    quota.admit(dashboardSenders.get(request) ?? request.ip, samples, (stage) => ctx.stages.stageNames().includes(stage));
    samples.forEach((s, i) => {
      if (!ctx.stages.hasRoomFor(s.stage, s.shard)) {
        throw new ProxyError('invalid_request', `samples[${i}] would open a series beyond the dashboard's limit of distinct stages or (stage, shard) pairs`, `samples[${i}]`);
      }
    });
    let accepted = 0;
    for (const sample of samples) if (ctx.stages.record(sample)) accepted++;
    return { accepted };
  });

  app.post('/dashboard/api/ab', async (request) => {
    const question = (request.body as { question?: unknown } | undefined)?.question;
    if (typeof question !== 'string' || question.trim().length === 0 || question.length > MAX_QUESTION_CHARS) {
      throw new ProxyError('invalid_request', `question must be a non-empty string of at most ${MAX_QUESTION_CHARS} characters`, 'question');
    }
    return ab.run(question.trim());
  });
}
