/**
 * ragwire-proxy benchmark, measured on the vLLM simulator (servers/vllm-sim),
 * not on a GPU: overhead against a bare Node hop and Portkey, embeddings
 * coalescing, prefix-affinity routing, overload shedding, and a rate sweep.
 *
 *   pnpm --filter @ragwire/bench proxy [--scale 1] [--only overhead,embeddings,completions,routing,overload,sweep,rag,tracing]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { renderTable } from '../table';
import { stopAll } from './processes';
import { ragInProxy } from './rag';
import { TRACING_OFF, tracingCost } from './tracing-cost';
import { completions, embeddings, overhead, overload, routing, sweep, type Options, type Row } from './scenarios';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const scale = Number(arg('scale') ?? 1);
const only = new Set((arg('only') ?? 'overhead,embeddings,completions,routing,overload,sweep,rag,tracing').split(','));
const markdown = argv.includes('--markdown');

function machine() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpu = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux
  }
  return { cpu, cores: cpus().length, ramGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` };
}

const f = (v: number | undefined, d = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));

function table(rows: Row[]): string {
  const header = ['scenario / variant', 'sent', 'ok/s', '429', 'e2e p50', 'e2e p90', 'e2e p99', 'TTFT p50', 'TTFT p99', 'ITL p50', 'TPOT p50', 'note'];
  const body = rows.map((r) => {
    const rep = r.report;
    const note = Object.entries(r.extra ?? {})
      .map(([k, v]) => `${k}=${typeof v === 'number' ? f(v, 2) : v}`)
      .join(' ');
    return [
      `${r.scenario}: ${r.variant}`,
      String(rep.sent),
      f(rep.throughputRps, 0),
      String(rep.byStatus['429'] ?? 0),
      f(rep.e2eOk.p50, 2),
      f(rep.e2eOk.p90, 2),
      f(rep.e2eOk.p99, 2),
      f(rep.ttft.p50),
      f(rep.ttft.p99),
      f(rep.itl.p50),
      f(rep.tpot.p50),
      note,
    ];
  });
  return renderTable(header, body, markdown);
}

interface Verdict {
  target: string;
  measured: string;
  met: boolean;
}

function verdicts(rows: Row[]): Verdict[] {
  const out: Verdict[] = [];
  const find = (s: string, v: string) => rows.find((r) => r.scenario.startsWith(s) && r.variant.startsWith(v));
  const bare = find('overhead @1000', 'bare');
  const proxy = find('overhead @1000', 'ragwire');
  const portkey = find('overhead @1000', '@portkey');
  const cpu = (r: Row | undefined) => Number(r?.extra?.hopCpuUsPerRequest);
  if (bare && proxy) {
    const pb = Number(bare.extra!.overheadP50Ms);
    const pp = Number(proxy.extra!.overheadP50Ms);
    out.push({ target: 'proxy overhead p50 <= 1.2x bare hop', measured: `${f(pp, 3)} ms vs ${f(pb, 3)} ms (${f(pp / pb, 2)}x)`, met: pp <= 1.2 * pb });
    out.push({
      target: 'proxy overhead p99 <= 2 ms @1000 RPS',
      measured: `${f(Number(proxy.extra!.overheadP99Ms), 3)} ms`,
      met: Number(proxy.extra!.overheadP99Ms) <= 2,
    });
    if (portkey) {
      out.push({
        target: 'proxy overhead below Portkey',
        measured: `p50 ${f(pp, 3)} vs ${f(Number(portkey.extra!.overheadP50Ms), 3)} ms; p99 ${f(Number(proxy.extra!.overheadP99Ms), 2)} vs ${f(Number(portkey.extra!.overheadP99Ms), 2)} ms`,
        met: pp < Number(portkey.extra!.overheadP50Ms) && Number(proxy.extra!.overheadP99Ms) < Number(portkey.extra!.overheadP99Ms),
      });
    }
  }
  if (bare && proxy && portkey) {
    out.push({
      target: '(context) hop CPU per request: proxy vs bare vs Portkey',
      measured: `${f(cpu(proxy), 0)} vs ${f(cpu(bare), 0)} vs ${f(cpu(portkey), 0)} us`,
      met: cpu(proxy) < cpu(portkey),
    });
  }
  const best = (scenario: string, mode: string) => {
    const group = rows.filter((r) => r.scenario.startsWith(scenario) && r.variant.startsWith(mode));
    return group.length ? Math.max(...group.map((r) => r.report.throughputRps)) : undefined;
  };
  const [embOn, embOff] = [best('embeddings', 'coalescing on'), best('embeddings', 'coalescing off')];
  if (embOn !== undefined && embOff !== undefined) {
    out.push({
      target: '>= 3x embeddings throughput from coalescing',
      measured: `${f(embOn, 0)} vs ${f(embOff, 0)} ok/s (${f(embOn / embOff, 2)}x)`,
      met: embOn >= 3 * embOff,
    });
  }
  const [cmpOn, cmpOff] = [best('completions', 'coalescing on'), best('completions', 'coalescing off')];
  if (cmpOn !== undefined && cmpOff !== undefined) {
    out.push({
      target: '(context) completions throughput from list-prompt coalescing',
      measured: `${f(cmpOn, 0)} vs ${f(cmpOff, 0)} ok/s (${f(cmpOn / cmpOff, 2)}x)`,
      met: cmpOn > cmpOff,
    });
  }
  const rr = find('RAG', 'round-robin');
  const pa = find('RAG', 'prefix-affinity');
  if (rr && pa)
    out.push({
      target: '>= 1.5x better TTFT p50 with prefix affinity',
      measured: `${f(pa.report.ttft.p50)} vs ${f(rr.report.ttft.p50)} ms (${f(rr.report.ttft.p50 / pa.report.ttft.p50, 2)}x)`,
      met: rr.report.ttft.p50 >= 1.5 * pa.report.ttft.p50,
    });
  const un = find('overload', 'unloaded');
  const ol = find('overload', '10x');
  if (un && ol) {
    out.push({
      target: '429s within 5 ms under 10x overload',
      measured: `p50 ${f(ol.report.e2e429.p50, 2)} ms, p99 ${f(ol.report.e2e429.p99, 2)} ms`,
      met: ol.report.e2e429.p99 <= 5,
    });
    out.push({
      target: 'admitted p99 within 2x of unloaded',
      measured: `${f(ol.report.e2eOk.p99)} vs ${f(un.report.e2eOk.p99)} ms (${f(ol.report.e2eOk.p99 / un.report.e2eOk.p99, 2)}x)`,
      met: ol.report.e2eOk.p99 <= 2 * un.report.e2eOk.p99,
    });
  }
  for (const sim of ['default sim steps', 'instant sim']) {
    const proxyRag = rows.find((r) => r.scenario.startsWith(`rag, ${sim}`) && r.variant.startsWith('RAG in the proxy'));
    if (!proxyRag) continue;
    // Against the demo's chain (the baseline) and against the same calls by hand (a lower bound).
    for (const [label, prefix] of [
      ["the demo's LangChain chain", "client-side RAG, the demo's"],
      ['client-side calls by hand', 'client-side RAG by hand'],
    ] as const) {
      const clientRag = rows.find((r) => r.scenario.startsWith(`rag, ${sim}`) && r.variant.startsWith(prefix));
      if (!clientRag) continue;
      const [c, p] = [clientRag.report.ttft.p50, proxyRag.report.ttft.p50];
      out.push({
        target: `>= 1.3x lower p50 before the first token, RAG in the proxy vs ${label} (${sim})`,
        measured: `${f(p, 2)} vs ${f(c, 2)} ms (${f(c / p, 2)}x)`,
        met: c >= 1.3 * p,
      });
      out.push({
        target: `(context) CPU per RAG request, proxy + client, vs ${label} (${sim})`,
        measured: `${f(Number(proxyRag.extra!.cpuUsPerRequest), 0)} vs ${f(Number(clientRag.extra!.cpuUsPerRequest), 0)} us`,
        met: Number(proxyRag.extra!.cpuUsPerRequest) <= Number(clientRag.extra!.cpuUsPerRequest),
      });
    }
  }
  for (const scenario of new Set(rows.filter((r) => r.scenario.startsWith('tracing')).map((r) => r.scenario))) {
    const tOff = rows.find((r) => r.scenario === scenario && r.variant === TRACING_OFF);
    if (!tOff) continue;
    for (const tOn of rows.filter((r) => r.scenario === scenario && r !== tOff)) {
      const [a, b] = [Number(tOff.extra!.cpuUsPerRequest), Number(tOn.extra!.cpuUsPerRequest)];
      const [median, lo, hi, rounds] = ['medianRoundRatio', 'minRoundRatio', 'maxRoundRatio', 'rounds'].map((k) => Number(tOn.extra![k]));
      out.push({
        // The target is tracing's cost when it records; the other settings are context beside it.
        target: `${tOn.variant.includes('every request') ? '' : '(context) '}${tOn.variant.replace(/^tracing (on|off), /, 'tracing $1 (')}): at most 5% more CPU per request (${scenario.replace(/^tracing @\d+ RPS each, /, '')}; median of ${rounds} rounds)`,
        measured: `${pct(median!)} (rounds ${pct(lo!)} .. ${pct(hi!)}; pooled ${f(b, 0)} vs ${f(a, 0)} us)`,
        met: median! <= 1.05,
      });
    }
  }
  return out;
}

/** A ratio as a signed percentage change: 1.042 is +4.2%. */
function pct(ratio: number): string {
  const change = (ratio - 1) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)}%`;
}

async function main(): Promise<void> {
  const m = machine();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`ragwire-proxy benchmark - MEASURED ON THE SIMULATOR (servers/vllm-sim), not on GPUs`);
  log(`machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB, Node ${m.node}`);
  const options: Options = { scale, log };
  const started = Date.now();
  const rows: Row[] = [];
  const plan: [string, (o: Options) => Promise<Row[]>][] = [
    ['overhead', overhead],
    ['embeddings', embeddings],
    ['completions', completions],
    ['routing', routing],
    ['overload', overload],
    ['sweep', sweep],
    ['rag', ragInProxy],
    ['tracing', tracingCost],
  ];
  try {
    for (const [name, run] of plan) {
      if (!only.has(name)) continue;
      log(`- ${name}`);
      rows.push(...(await run(options)));
    }
  } finally {
    await stopAll();
  }
  const v = verdicts(rows);
  console.log(`\nragwire-proxy benchmark (simulated upstream: servers/vllm-sim; latencies in ms)\n`);
  console.log(table(rows));
  console.log('');
  console.log(
    renderTable(
      ['target', 'measured', 'met'],
      v.map((x) => [x.target, x.measured, x.met ? 'yes' : 'NO']),
      markdown,
    ),
  );
  const date = new Date().toISOString().slice(0, 10);
  const dir = fileURLToPath(new URL('../../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}proxy-${date}.json`;
  writeFileSync(
    file,
    JSON.stringify(
      {
        benchmark: 'proxy',
        simulated: true,
        note: 'Upstream is servers/vllm-sim (a cost-model simulator of vLLM), not a GPU server. Load generator, simulator and proxies share this machine.',
        date: new Date().toISOString(),
        machine: m,
        data: 'synthetic prompts (see bench/src/proxy/scenarios.ts)',
        parameters: { scale, only: [...only] },
        wallSeconds: (Date.now() - started) / 1000,
        verdicts: v,
        rows,
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch(async (error) => {
  await stopAll();
  console.error(error);
  process.exit(1);
});
