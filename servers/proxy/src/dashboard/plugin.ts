import { ProxyError } from '../errors';
import type { Exchange } from '../http/exchange';
import type { ProxyPlugin } from '../context';
import { AbRunner, type DashboardHooks } from './ab-runner';
import { loadDashboardAssets, type DashboardAsset } from './assets';
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
      throw new ProxyError(
        'invalid_request',
        `${param}.shard must be a non-negative integer or 1 to 64 letters, digits or _.:@/-, got ${JSON.stringify(shard)}`,
        `${param}.shard`,
      );
    }
    return { stage, ms, shard: label };
  });
}

/** How often the admission queues are sampled; each second keeps its largest sample. */
const QUEUE_SAMPLE_MS = 250;

/**
 * The dashboard as a plug-in: `GET /dashboard` (the page), `GET
 * /dashboard/assets/<name>` (its script and stylesheet, and uPlot's), `GET
 * /dashboard/api/series` (what the page polls), `POST /dashboard/api/stages`
 * (stage timings from other processes) and `POST /dashboard/api/ab` (runs
 * the A/B hook). The page and assets are open; the API needs a key when keys
 * are configured. It also samples the admission queues' depth four times a
 * second. The proxy runs without it (`plugins: []`).
 */
export function dashboardPlugin(hooks: DashboardHooks = {}): ProxyPlugin {
  return {
    name: 'dashboard',
    register(pipeline, ctx) {
      const assets = loadDashboardAssets();
      const ab = new AbRunner(hooks, ctx.config.dashboard.abTimeoutMs);
      const page = assets.get('index.html')!;
      const quota = new StageQuota(ctx.config.dashboardApi.stagesPerSender, ctx.config.dashboardApi.samplesPerSenderPerSecond);
      const file = (ex: Exchange, asset: DashboardAsset) => {
        ex.headers['content-type'] = asset.contentType;
        ex.headers['cache-control'] = 'no-cache';
        ex.send(200, asset.body);
      };

      pipeline.add('GET', '/dashboard', { access: 'open', json: false, handle: (ex) => file(ex, page) });
      pipeline.addPrefix('GET', '/dashboard/assets/', {
        access: 'open',
        json: false,
        handle(ex) {
          const name = ex.route.slice('/dashboard/assets/'.length);
          const asset = name === 'index.html' ? undefined : assets.get(name);
          if (!asset) throw new ProxyError('not_found', `no dashboard asset "${name}"`);
          file(ex, asset);
        },
      });

      pipeline.add('GET', '/dashboard/api/series', {
        access: 'dashboard',
        json: false,
        handle(ex) {
          const { stages } = ctx;
          const series: Record<string, { t: number[]; p50: number[]; p99: number[]; count: number[] }> = {};
          for (const name of stages.stageNames()) {
            const s = stages.stageSeries(name);
            series[name] = { t: s.t, p50: s.p50.map(us), p99: s.p99.map(us), count: s.count };
          }
          ex.json(200, {
            now: Date.now() / 1000,
            windowSeconds: stages.windowSeconds,
            shardWindowSeconds: stages.shardWindowSeconds,
            stages: series,
            throughput: stages.throughput(),
            queueDepth: stages.queueDepth(),
            shards: stages.shardLatencies().map((s) => ({ ...s, p50: us(s.p50), p99: us(s.p99) })),
            abAvailable: ab.available,
            ab: ab.lastReport ?? null,
          });
        },
      });

      pipeline.add('POST', '/dashboard/api/stages', {
        access: 'dashboard',
        json: true,
        handle(ex, body) {
          const samples = parseStageSamples(body);
          quota.admit(ex.sender, samples, (stage) => ctx.stages.stageNames().includes(stage));
          samples.forEach((s, i) => {
            if (!ctx.stages.hasRoomFor(s.stage, s.shard)) {
              throw new ProxyError(
                'invalid_request',
                `samples[${i}] would open a series beyond the dashboard's limit of distinct stages or (stage, shard) pairs`,
                `samples[${i}]`,
              );
            }
          });
          let accepted = 0;
          for (const sample of samples) if (ctx.stages.record(sample)) accepted++;
          ex.json(200, { accepted });
        },
      });

      pipeline.add('POST', '/dashboard/api/ab', {
        access: 'dashboard',
        json: true,
        async handle(ex, body) {
          const question = (body as { question?: unknown } | undefined)?.question;
          if (typeof question !== 'string' || question.trim().length === 0 || question.length > MAX_QUESTION_CHARS) {
            throw new ProxyError('invalid_request', `question must be a non-empty string of at most ${MAX_QUESTION_CHARS} characters`, 'question');
          }
          ex.json(200, await ab.run(question.trim()));
        },
      });

      const sampler = setInterval(() => {
        let depth = 0;
        for (const model of ctx.upstreams.models()) depth += ctx.admission.queueDepth(model);
        ctx.stages.recordQueueDepth(depth);
      }, QUEUE_SAMPLE_MS);
      sampler.unref();
      return () => clearInterval(sampler);
    },
  };
}
