/**
 * An open-loop load generator for OpenAI-compatible servers, in the manner of
 * `vllm bench serve` and GuideLLM: requests leave on a schedule fixed in
 * advance (constant, poisson, uniform or random bursts), never waiting for
 * earlier answers, and each records TTFT, inter-token latency, TPOT and
 * end-to-end latency. A sweep runs one schedule per rate.
 */
import { Pool } from 'undici';
import { quantile } from '../stats';
import { Prng } from '@ragwire/datasets';

export type Arrival = 'constant' | 'poisson' | 'uniform' | 'bursts';

export interface LoadSpec {
  arrival: Arrival;
  /** Mean requests per second. */
  rate: number;
  durationS: number;
  /** Bursts: requests per burst (the rate is kept on average). */
  burstSize?: number;
  seed?: number;
}

export interface RequestSpec {
  path: string;
  body: string;
  stream: boolean;
  headers?: Record<string, string>;
}

export interface Sample {
  status: number;
  /** Send time relative to the run start (ms). */
  sentAt: number;
  /** How late the send was against its schedule (ms). */
  lagMs: number;
  e2eMs: number;
  ttftMs?: number;
  itlMs: number[];
  tokens: number;
  error?: string;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  n: number;
}

export interface LoadReport {
  spec: LoadSpec;
  sent: number;
  byStatus: Record<string, number>;
  /** Completed requests per second, by status. */
  goodputPerStatus: Record<string, number>;
  throughputRps: number;
  tokensPerS: number;
  e2e: Percentiles;
  /** Latency of the 2xx answers only. */
  e2eOk: Percentiles;
  /** Latency of the 429 answers only. */
  e2e429: Percentiles;
  ttft: Percentiles;
  itl: Percentiles;
  tpot: Percentiles;
  maxLagMs: number;
}

/** Send offsets (ms from start) for a schedule. */
export function schedule(spec: LoadSpec): number[] {
  const rng = new Prng(spec.seed ?? 1); // seeded, so schedules repeat across runs
  const random = () => rng.nextFloat();
  const total = Math.round(spec.rate * spec.durationS);
  const horizon = spec.durationS * 1000;
  const gap = 1000 / spec.rate;
  const out: number[] = [];
  switch (spec.arrival) {
    case 'constant':
      for (let i = 0; i < total; i++) out.push(i * gap);
      break;
    case 'poisson':
      for (let t = 0; out.length < total; t += -Math.log(1 - random()) * gap) out.push(t);
      break;
    case 'uniform':
      for (let i = 0; i < total; i++) out.push(random() * horizon);
      out.sort((a, b) => a - b);
      break;
    case 'bursts': {
      const size = spec.burstSize ?? 10;
      for (let t = 0; out.length < total; t += -Math.log(1 - random()) * gap * size) {
        for (let i = 0; i < size && out.length < total; i++) out.push(t);
      }
      break;
    }
  }
  return out;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: NaN, p90: NaN, p99: NaN, mean: NaN, n: 0 };
  return {
    p50: quantile(values, 0.5),
    p90: quantile(values, 0.9),
    p99: quantile(values, 0.99),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    n: values.length,
  };
}

/** Counts streamed tokens: one SSE event with non-empty content or text is one token (true of vLLM and the simulator). */
function countTokenEvents(text: string): number {
  let n = 0;
  for (const m of text.matchAll(/"(?:content|text)":"((?:[^"\\]|\\.)*)"/g)) if (m[1]!.length > 0) n++;
  return n;
}

async function one(pool: Pool, req: RequestSpec, origin: number, scheduledAt: number): Promise<Sample> {
  const sent = performance.now();
  const sample: Sample = { status: 0, sentAt: sent - origin, lagMs: sent - origin - scheduledAt, e2eMs: 0, itlMs: [], tokens: 0 };
  try {
    const res = await pool.request({ method: 'POST', path: req.path, body: req.body, headers: { 'content-type': 'application/json', ...req.headers } });
    sample.status = res.statusCode;
    if (!req.stream || res.statusCode !== 200) {
      await res.body.arrayBuffer();
    } else {
      let last = 0;
      for await (const chunk of res.body) {
        const now = performance.now();
        const tokens = countTokenEvents((chunk as Buffer).toString('utf8'));
        if (tokens === 0) continue;
        if (sample.ttftMs === undefined) sample.ttftMs = now - sent;
        else sample.itlMs.push(now - last);
        // Tokens that arrived in one network chunk count as arriving together.
        for (let i = 1; i < tokens; i++) sample.itlMs.push(0);
        sample.tokens += tokens;
        last = now;
      }
    }
  } catch (error) {
    sample.error = (error as Error).message;
  }
  sample.e2eMs = performance.now() - sent;
  return sample;
}

/**
 * Runs one open-loop schedule against `pool` (or the i-th request against `pool(i)`, to spread one
 * schedule over several servers). `request(i)` gives the i-th request. Every request's answer is
 * awaited before the report is built.
 */
export async function runLoad(
  pool: Pool | ((i: number) => Pool),
  spec: LoadSpec,
  request: (i: number) => RequestSpec,
): Promise<{ report: LoadReport; samples: Sample[]; elapsedS: number }> {
  const poolOf = typeof pool === 'function' ? pool : () => pool;
  const offsets = schedule(spec);
  const origin = performance.now();
  const pending: Promise<Sample>[] = [];
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now() - origin;
      while (i < offsets.length && offsets[i]! <= now) {
        pending.push(one(poolOf(i), request(i), origin, offsets[i]!));
        i++;
      }
      if (i >= offsets.length) return resolve();
      const wait = offsets[i]! - (performance.now() - origin);
      if (wait > 1) setTimeout(tick, wait - 0.5);
      else setImmediate(tick);
    };
    tick();
  });
  const samples = await Promise.all(pending);
  const elapsedS = Math.max(spec.durationS, (performance.now() - origin) / 1000);
  return { report: summarize(spec, samples, elapsedS), samples, elapsedS };
}

export function summarize(spec: LoadSpec, samples: Sample[], elapsedS: number): LoadReport {
  const byStatus: Record<string, number> = {};
  for (const s of samples) {
    const key = s.error ? 'error' : String(s.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const goodputPerStatus = Object.fromEntries(Object.entries(byStatus).map(([k, v]) => [k, v / elapsedS]));
  const ok = samples.filter((s) => s.status >= 200 && s.status < 300 && !s.error);
  const tokens = ok.reduce((a, s) => a + s.tokens, 0);
  const tpot = ok.filter((s) => s.tokens > 1 && s.ttftMs !== undefined).map((s) => (s.e2eMs - s.ttftMs!) / (s.tokens - 1));
  return {
    spec,
    sent: samples.length,
    byStatus,
    goodputPerStatus,
    throughputRps: ok.length / elapsedS,
    tokensPerS: tokens / elapsedS,
    e2e: percentiles(samples.map((s) => s.e2eMs)),
    e2eOk: percentiles(ok.map((s) => s.e2eMs)),
    e2e429: percentiles(samples.filter((s) => s.status === 429).map((s) => s.e2eMs)),
    ttft: percentiles(ok.flatMap((s) => (s.ttftMs === undefined ? [] : [s.ttftMs]))),
    itl: percentiles(ok.flatMap((s) => s.itlMs)),
    tpot: percentiles(tpot),
    maxLagMs: Math.max(0, ...samples.map((s) => s.lagMs)),
  };
}

/** A keep-alive pool sized for open-loop load. */
export function loadPool(url: string, connections = 512): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
}
