/**
 * What tracing costs the proxy: the same chat requests through a proxy with tracing off (the
 * default) and one exporting every span over OTLP/HTTP to a receiver in this process, at 200 RPS on a
 * near-instant simulator, both at once; CPU per request of each proxy process. The cost is read as
 * the median over rounds of each round's on/off ratio (pooled figures beside it).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadPool, runLoad, summarize, type Sample } from './load';
import { cpuSeconds, startProxy, startSim } from './processes';
import type { Options, Row } from './scenarios';

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
  try {
    const sim = await startSim(['--step-base-ms', '0', '--step-per-seq-ms', '0', '--prefill-per-token-ms', '0', '--frontend-per-request-ms', '0']);
    const args = ['--upstream', sim.url, '--routing', 'least-outstanding'];
    const off = await startProxy(args);
    const on = await startProxy(args, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const targets = [
      { variant: 'tracing off (default)', proc: off },
      { variant: 'tracing on, OTLP export', proc: on },
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
      const request = () => ({ path: '/v1/chat/completions', body, stream: shape.stream, headers: { traceparent } });
      for (const p of pooled) await runLoad(p.pool, { arrival: 'constant', rate: 100, durationS: 1 * o.scale }, request); // warm-up
      // Both proxies take the same load at the same time, so a burst of other work on the machine lands on both.
      const rounds = 6;
      const roundCpuUs = targets.map(() => [] as number[]);
      for (let round = 0; round < rounds; round++) {
        const before = targets.map((t) => cpuSeconds(t.proc.child.pid!));
        const runs = await Promise.all(pooled.map((p) => runLoad(p.pool, { arrival: 'constant', rate: 200, durationS: 3 * o.scale }, request)));
        runs.forEach((run, t) => {
          const cpuS = cpuSeconds(targets[t]!.proc.child.pid!) - before[t]!;
          pooled[t]!.cpuS += cpuS;
          roundCpuUs[t]!.push((cpuS * 1e6) / Math.max(1, run.samples.length));
          pooled[t]!.samples.push(...run.samples);
          pooled[t]!.elapsedS += run.elapsedS;
        });
      }
      await Promise.all(pooled.map((p) => p.pool.destroy()));
      targets.forEach((t, i) => {
        const p = pooled[i]!;
        const report = summarize({ arrival: 'constant', rate: 200, durationS: p.elapsedS }, p.samples, p.elapsedS);
        const cpuUs = (p.cpuS * 1e6) / report.sent;
        o.log(
          `  tracing (${shape.label}): ${t.variant}: CPU ${cpuUs.toFixed(0)} us/req, p50 ${report.e2eOk.p50.toFixed(2)} ms${i === 1 ? `, ${exported} bytes exported so far` : ''}`,
        );
        // Each round's on/off CPU ratio (1 for the off row itself); the median is the cost.
        const ratios = roundCpuUs[i]!.map((us, r) => us / roundCpuUs[0]![r]!).sort((a, b) => a - b);
        rows.push({
          scenario: `tracing @200 RPS, ${shape.label}`,
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
  }
}
