/**
 * What tracing costs the proxy: the same chat requests through a proxy with tracing off (the
 * default) and three with tracing on, exporting over OTLP/HTTP to a receiver in this process: one
 * recording every request (the caller's traceparent sampled), one whose caller marks its trace
 * unsampled (ragwire's hooks without the SDK's recording), one starting its own traces at
 * sampleRatio 0.1. RATE requests/s each on a near-instant simulator, all at once, so a burst of
 * other work on the machine lands on all; CPU per request of each proxy from its own process.cpuUsage() (its
 * /metrics). The cost is the median over rounds of each round's on/off ratio; every round's ratio
 * is printed, and the pooled figures beside it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadPool, runLoad, summarize, type RequestSpec, type Sample } from './load';
import { scrape, startProxy, startSim } from './processes';
import type { Options, Row } from './scenarios';

/** Requests per second on each proxy: the four at once stay under what two cores serve without shedding. */
const RATE = 150;

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
    // Off first: every ratio is against it. Each proxy takes the same requests but for the caller's traceparent.
    const targets = [
      { variant: 'tracing off (default)', proc: await startProxy(args), traceparent: sampledTraceparent },
      { variant: 'tracing on, every request recorded (caller sampled)', proc: await startProxy(args, on), traceparent: sampledTraceparent },
      {
        variant: 'tracing on, caller unsampled (hooks only)',
        proc: await startProxy(args, on),
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
      },
      { variant: 'tracing on, no caller context, sampleRatio 0.1', proc: await startProxy([...args, '--config', sampled], on), traceparent: undefined },
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
      const pooled = targets.map((t) => ({ samples: [] as Sample[], elapsedS: 0, cpuS: 0, pool: loadPool(t.proc.url) }));
      const request = (traceparent: string | undefined) => (): RequestSpec => ({
        path: '/v1/chat/completions',
        body,
        stream: shape.stream,
        headers: traceparent ? { traceparent } : {},
      });
      for (const [t, p] of pooled.entries())
        await runLoad(p.pool, { arrival: 'constant', rate: 100, durationS: 1 * o.scale }, request(targets[t]!.traceparent)); // warm-up
      // Both proxies take the same load at the same time, so a burst of other work on the machine lands on both.
      const rounds = 8;
      const roundCpuUs = targets.map(() => [] as number[]);
      for (let round = 0; round < rounds; round++) {
        const before = await Promise.all(targets.map((t) => cpuSeconds(t.proc.url)));
        const runs = await Promise.all(
          pooled.map((p, t) => runLoad(p.pool, { arrival: 'constant', rate: RATE, durationS: 3 * o.scale }, request(targets[t]!.traceparent))),
        );
        const after = await Promise.all(targets.map((t) => cpuSeconds(t.proc.url)));
        runs.forEach((run, t) => {
          const cpuS = after[t]! - before[t]!;
          pooled[t]!.cpuS += cpuS;
          roundCpuUs[t]!.push((cpuS * 1e6) / Math.max(1, run.samples.length));
          pooled[t]!.samples.push(...run.samples);
          pooled[t]!.elapsedS += run.elapsedS;
        });
      }
      await Promise.all(pooled.map((p) => p.pool.destroy()));
      targets.forEach((t, i) => {
        const p = pooled[i]!;
        const report = summarize({ arrival: 'constant', rate: RATE, durationS: p.elapsedS }, p.samples, p.elapsedS);
        const cpuUs = (p.cpuS * 1e6) / report.sent;
        o.log(
          `  tracing (${shape.label}): ${t.variant}: CPU ${cpuUs.toFixed(0)} us/req, p50 ${report.e2eOk.p50.toFixed(2)} ms${i === targets.length - 1 ? `, ${exported} bytes exported so far` : ''}`,
        );
        // Each round's on/off CPU ratio (1 for the off row itself); the median is the cost.
        const ratios = roundCpuUs[i]!.map((us, r) => us / roundCpuUs[0]![r]!).sort((a, b) => a - b);
        if (i > 0) o.log(`    rounds' on/off ratios: ${ratios.map((x) => x.toFixed(3)).join(' ')}`);
        rows.push({
          scenario: `tracing @${RATE} RPS, ${shape.label}`,
          variant: t.variant,
          report,
          extra: {
            cpuUsPerRequest: cpuUs,
            rounds,
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
