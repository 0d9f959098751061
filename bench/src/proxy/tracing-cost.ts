/**
 * What tracing costs the proxy: the same chat requests through a proxy with tracing off (the
 * default) and one exporting every span over OTLP/HTTP to a receiver in this process, at 200 RPS on a
 * near-instant simulator; CPU per request of each proxy process, rounds interleaved.
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
    const body = JSON.stringify({ model: 'ragwire/sim-8b', messages: [{ role: 'user', content: 'trace me' }], max_tokens: 1 });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const targets = [
      { variant: 'tracing off (default)', proc: off },
      { variant: 'tracing on, OTLP export', proc: on },
    ];
    const pooled = targets.map((t) => ({ samples: [] as Sample[], elapsedS: 0, cpuS: 0, pool: loadPool(t.proc.url) }));
    const request = () => ({ path: '/v1/chat/completions', body, stream: false, headers: { traceparent } });
    for (const p of pooled) await runLoad(p.pool, { arrival: 'constant', rate: 100, durationS: 1 * o.scale }, request); // warm-up
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < targets.length; k++) {
        const t = (k + round) % targets.length;
        const before = cpuSeconds(targets[t]!.proc.child.pid!);
        const run = await runLoad(pooled[t]!.pool, { arrival: 'constant', rate: 200, durationS: 1 * o.scale }, request);
        pooled[t]!.cpuS += cpuSeconds(targets[t]!.proc.child.pid!) - before;
        pooled[t]!.samples.push(...run.samples);
        pooled[t]!.elapsedS += run.elapsedS;
      }
    }
    await Promise.all(pooled.map((p) => p.pool.destroy()));
    return targets.map((t, i) => {
      const p = pooled[i]!;
      const report = summarize({ arrival: 'constant', rate: 200, durationS: p.elapsedS }, p.samples, p.elapsedS);
      const cpuUs = (p.cpuS * 1e6) / report.sent;
      o.log(`  tracing: ${t.variant}: CPU ${cpuUs.toFixed(0)} us/req, p50 ${report.e2eOk.p50.toFixed(2)} ms${i === 1 ? `, ${exported} bytes exported` : ''}`);
      return { scenario: 'tracing @200 RPS', variant: t.variant, report, extra: { cpuUsPerRequest: cpuUs, rounds } };
    });
  } finally {
    receiver.close();
  }
}
