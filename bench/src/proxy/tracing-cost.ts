/**
 * What tracing costs the proxy: the same chat requests through a proxy with tracing off (the
 * default), a second proxy with tracing off (the control: what two processes differ by with no
 * tracing at all), and three with tracing on, exporting over OTLP/HTTP to a receiver in this
 * process: one recording every request (the caller's traceparent sampled), one whose caller marks its
 * trace unsampled (ragwire parses and passes on its traceparent; nothing reaches the SDK), one
 * starting its own traces at sampleRatio 0.1. CPU per request is each proxy's own
 * process.cpuUsage() (its /metrics) over the requests it served. Most of a request's CPU here is the
 * proxy's wake-ups, whose cost moves with what else the two cores are doing; so all five proxies take turns on one request stream (request
 * i goes to proxy (i + round) mod 5, RATE requests/s in all, about one request in flight at a time)
 * and meet the same machine, rather than each taking its own load in its own window, or all taking
 * load at the same instants (side by side, a proxy's slot alone moved its CPU by up to 40% with
 * tracing off everywhere). Each round starts every proxy afresh and warms it up (30 s). The cost is
 * the median over rounds of each round's variant/off ratio; every round's ratio is printed, and the
 * pooled figures beside it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'undici';
import { loadPool, runLoad, summarize, type RequestSpec, type Sample } from './load';
import { scrape, startProxy, startSim, type Proc } from './processes';
import type { Options, Row } from './scenarios';

/** Requests per second, all proxies together (one every 4 ms: a request takes about 1 ms). */
const RATE = 250;
/** Seconds each round is measured. */
const MEASURE_S = 8;
/**
 * Warm-up requests per second, all proxies together, and for how long: 6,000 requests a proxy. A fresh
 * process runs code it has seen rarely in V8's unoptimized tiers, and a path taken by one request in
 * ten (sampleRatio 0.1) stays rare for thousands of requests: a 4 s warm-up (800 a proxy) measured
 * the recorded variant at +24% and sampleRatio 0.1 at +13%, where a 30 s one gives about half and a
 * third of that. This measures a proxy that has been serving for a while, as a deployed one has.
 */
const WARM_RATE = 1000;
const WARM_S = 30;
/** Rounds per request shape; each starts every variant's proxy afresh. */
const ROUNDS = 4;

/** The variant every other is compared with (bench/src/proxy/main.ts's verdicts). */
export const TRACING_OFF = 'tracing off (default)';

/** A proxy's own CPU seconds so far (user + system, from process.cpuUsage(), as its /metrics reports). */
function cpuSeconds(url: string): Promise<number> {
  return scrape(url, 'ragwire_proxy_process_cpu_seconds_total');
}

export async function tracingCost(o: Options): Promise<Row[]> {
  let exported = 0;
  const receiver = createServer((req, res) => {
    let size = 0;
    req.on('data', (d: Buffer) => (size += d.length));
    req.on('end', () => {
      exported += size;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  const dir = mkdtempSync(join(tmpdir(), 'ragwire-tracing-'));
  try {
    const sim = await startSim(['--step-base-ms', '0', '--step-per-seq-ms', '0', '--prefill-per-token-ms', '0', '--frontend-per-request-ms', '0']);
    const args = ['--upstream', sim.url, '--routing', 'least-outstanding'];
    const on = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint };
    // tracing.sampleRatio has no flag or variable: a configuration file sets it.
    const sampled = join(dir, 'proxy.yaml');
    writeFileSync(sampled, 'tracing:\n  sampleRatio: 0.1\n');
    const sampledTraceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    // Off first: every ratio is against it. Each variant takes the same requests but for the caller's traceparent.
    const variants = [
      { variant: TRACING_OFF, args, env: {}, traceparent: sampledTraceparent },
      { variant: 'tracing off, another process (control)', args, env: {}, traceparent: sampledTraceparent },
      { variant: 'tracing on, every request recorded (caller sampled)', args, env: on, traceparent: sampledTraceparent },
      { variant: 'tracing on, caller unsampled (nothing recorded)', args, env: on, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' },
      { variant: 'tracing on, no caller context, sampleRatio 0.1', args: [...args, '--config', sampled], env: on, traceparent: undefined },
    ];
    // The smallest request (the hop's own CPU is least, so tracing's share is largest) and a typical streamed answer.
    const shapes = [
      { label: 'chat, 1 token', maxTokens: 1, stream: false },
      { label: 'chat, 64 tokens streamed', maxTokens: 64, stream: true },
    ];
    const rows: Row[] = [];
    for (const shape of shapes) {
      const body = JSON.stringify({
        model: 'ragwire/sim-8b',
        messages: [{ role: 'user', content: 'trace me' }],
        max_tokens: shape.maxTokens,
        stream: shape.stream,
      });
      const request = (traceparent: string | undefined): RequestSpec => ({
        path: '/v1/chat/completions',
        body,
        stream: shape.stream,
        headers: traceparent ? { traceparent } : {},
      });
      const pooled = variants.map(() => ({ samples: [] as Sample[], elapsedS: 0, cpuS: 0 }));
      const roundCpuUs = variants.map(() => [] as number[]);
      for (let round = 0; round < ROUNDS; round++) {
        const procs: Proc[] = [];
        const pools: Pool[] = [];
        try {
          for (const v of variants) {
            procs.push(await startProxy(v.args, v.env));
            pools.push(loadPool(procs.at(-1)!.url, 16));
          }
          // Request i goes to variant (i + round) mod n: the turns rotate each round.
          const variantOf = (i: number) => (i + round) % variants.length;
          const pool = (i: number) => pools[variantOf(i)]!;
          const spec = (i: number) => request(variants[variantOf(i)]!.traceparent);
          await runLoad(pool, { arrival: 'constant', rate: WARM_RATE, durationS: WARM_S * o.scale }, spec);
          const before = await Promise.all(procs.map((p) => cpuSeconds(p.url)));
          const run = await runLoad(pool, { arrival: 'constant', rate: RATE, durationS: MEASURE_S * o.scale }, spec);
          const after = await Promise.all(procs.map((p) => cpuSeconds(p.url)));
          variants.forEach((_, v) => {
            const samples = run.samples.filter((_, i) => variantOf(i) === v);
            const cpuS = after[v]! - before[v]!;
            const p = pooled[v]!;
            p.cpuS += cpuS;
            p.samples.push(...samples);
            p.elapsedS += run.elapsedS;
            roundCpuUs[v]!.push((cpuS * 1e6) / Math.max(1, samples.length));
          });
        } finally {
          await Promise.all(pools.map((p) => p.destroy()));
          await Promise.all(procs.map((p) => p.stop()));
        }
      }
      variants.forEach((t, i) => {
        const p = pooled[i]!;
        const report = summarize({ arrival: 'constant', rate: RATE / variants.length, durationS: p.elapsedS }, p.samples, p.elapsedS);
        const cpuUs = (p.cpuS * 1e6) / report.sent;
        o.log(
          `  tracing (${shape.label}): ${t.variant}: CPU ${cpuUs.toFixed(0)} us/req, p50 ${report.e2eOk.p50.toFixed(2)} ms${i === variants.length - 1 ? `, ${exported} bytes exported so far` : ''}`,
        );
        // Each round's variant/off CPU ratio (1 for the off row itself); the median is the cost.
        const ratios = roundCpuUs[i]!.map((us, r) => us / roundCpuUs[0]![r]!).sort((a, b) => a - b);
        if (i > 0) o.log(`    rounds' ratios to off: ${ratios.map((x) => x.toFixed(3)).join(' ')}`);
        rows.push({
          scenario: `tracing @${RATE / variants.length} RPS each, ${shape.label}`,
          variant: t.variant,
          report,
          extra: {
            cpuUsPerRequest: cpuUs,
            rounds: ROUNDS,
            medianRoundRatio: ratios[Math.floor(ratios.length / 2)]!,
            minRoundRatio: ratios[0]!,
            maxRoundRatio: ratios[ratios.length - 1]!,
          },
        });
      });
    }
    return rows;
  } finally {
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
