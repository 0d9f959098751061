/** The comparisons of the proxy benchmark, each against fresh simulator processes. */
import { loadPool, runLoad, summarize, type LoadReport, type LoadSpec, type RequestSpec, type Sample } from './load';
import { cpuSeconds, portkeyHeaders, scrape, startPassthrough, startPortkey, startProxy, startSim } from './processes';

const MODEL = 'ragwire/sim-8b';
const EMBED = 'ragwire/sim-embed';

export interface Row {
  scenario: string;
  variant: string;
  report: LoadReport;
  extra?: Record<string, number | string>;
}

export interface Options {
  /** Multiplies every duration (1 = the documented default run). */
  scale: number;
  log: (line: string) => void;
}

const chat = (content: string, maxTokens: number, stream: boolean, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content }],
    max_tokens: maxTokens,
    ignore_eos: true,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
    ...extra,
  });

async function load(url: string, spec: LoadSpec, request: (i: number) => RequestSpec): Promise<LoadReport> {
  const pool = loadPool(url);
  try {
    return (await runLoad(pool, spec, request)).report;
  } finally {
    await pool.destroy();
  }
}

/**
 * Same requests direct, through the bare pass-through, the proxy and
 * Portkey, at 1,000 and 200 RPS. The variants take turns in short rounds
 * (the order rotating each round) and each variant's rounds are pooled, so
 * all four see the same spells of machine noise instead of one variant
 * drawing a noisy five seconds.
 */
export async function overhead(o: Options): Promise<Row[]> {
  // A near-instant upstream, so the hop is what is measured.
  const sim = await startSim(['--step-base-ms', '0', '--step-per-seq-ms', '0', '--prefill-per-token-ms', '0', '--frontend-per-request-ms', '0']);
  const pass = await startPassthrough(sim.url);
  const proxy = await startProxy(['--upstream', sim.url, '--routing', 'least-outstanding', '--max-concurrency', '512', '--max-queue', '1024']);
  const portkey = await startPortkey();
  const body = chat('What is the capital of the vector space?', 1, false);
  const targets: { variant: string; url: string; headers: Record<string, string>; pid: number | undefined }[] = [
    { variant: 'direct to sim', url: sim.url, headers: {}, pid: undefined },
    { variant: 'bare Node pass-through', url: pass.url, headers: {}, pid: pass.child.pid },
    { variant: 'ragwire-proxy', url: proxy.url, headers: {}, pid: proxy.child.pid },
    { variant: '@portkey-ai/gateway', url: portkey.url, headers: portkeyHeaders(sim.url), pid: portkey.child.pid },
  ];
  const rounds = 5;
  const roundS = 1 * o.scale;
  const rows: Row[] = [];
  // At 1,000 RPS (the target), and at 200 RPS, where a shared 2-core machine is not saturated.
  for (const rate of [1000, 200]) {
    const pooled = targets.map((target) => ({ samples: [] as Sample[], elapsedS: 0, cpuS: 0, connections: loadPool(target.url) }));
    for (const [t, target] of targets.entries()) {
      await runLoad(pooled[t]!.connections, { arrival: 'constant', rate: rate / 2, durationS: 1 * o.scale }, () => ({
        path: '/v1/chat/completions',
        body,
        stream: false,
        headers: target.headers,
      })); // warm-up, discarded
    }
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < targets.length; k++) {
        const t = (k + round) % targets.length;
        const target = targets[t]!;
        const cpuBefore = target.pid ? cpuSeconds(target.pid) : NaN;
        const run = await runLoad(pooled[t]!.connections, { arrival: 'constant', rate, durationS: roundS }, () => ({
          path: '/v1/chat/completions',
          body,
          stream: false,
          headers: target.headers,
        }));
        pooled[t]!.samples.push(...run.samples);
        pooled[t]!.elapsedS += run.elapsedS;
        pooled[t]!.cpuS += target.pid ? cpuSeconds(target.pid) - cpuBefore : 0;
      }
    }
    await Promise.all(pooled.map((p) => p.connections.destroy()));
    const group: Row[] = targets.map((target, t) => {
      const report = summarize({ arrival: 'constant', rate, durationS: rounds * roundS }, pooled[t]!.samples, pooled[t]!.elapsedS);
      // CPU spent by the hop itself per request: robust to other load on the machine, unlike wall time.
      const cpuUsPerRequest = target.pid ? (pooled[t]!.cpuS * 1e6) / report.sent : 0;
      o.log(
        `  overhead @${rate}: ${target.variant}: p50 ${report.e2eOk.p50.toFixed(2)} ms, p99 ${report.e2eOk.p99.toFixed(2)} ms, hop CPU ${cpuUsPerRequest.toFixed(0)} us/req, ${JSON.stringify(report.byStatus)}`,
      );
      return { scenario: `overhead @${rate} RPS`, variant: target.variant, report, extra: { hopCpuUsPerRequest: cpuUsPerRequest, rounds } };
    });
    const direct = group[0]!.report.e2eOk;
    for (const row of group) Object.assign(row.extra!, { overheadP50Ms: row.report.e2eOk.p50 - direct.p50, overheadP99Ms: row.report.e2eOk.p99 - direct.p99 });
    rows.push(...group);
  }
  await Promise.all([sim.stop(), pass.stop(), proxy.stop(), portkey.stop()]);
  return rows;
}

/** One batching comparison: the same single-item clients through the proxy with its coalescing off and on. */
interface CoalescingComparison {
  /** Log and row label, e.g. `embeddings`. */
  name: string;
  scenario: string;
  simArgs: string[];
  proxyArgs: (on: boolean) => string[];
  rates: number[];
  request: (i: number) => RequestSpec;
}

async function compareCoalescing(o: Options, c: CoalescingComparison): Promise<Row[]> {
  const rows: Row[] = [];
  for (const on of [false, true]) {
    const mode = on ? 'coalescing on' : 'coalescing off';
    const sim = await startSim(c.simArgs);
    const proxy = await startProxy(['--upstream', sim.url, '--max-queue', '512', ...c.proxyArgs(on)]);
    for (const rate of c.rates) {
      const report = await load(proxy.url, { arrival: 'poisson', rate, durationS: 4 * o.scale, seed: rate }, c.request);
      const batch = (await scrape(proxy.url, 'ragwire_proxy_batch_size_sum')) / Math.max(1, await scrape(proxy.url, 'ragwire_proxy_batch_size_count'));
      o.log(
        `  ${c.name}: ${mode} @${rate}/s: ${report.throughputRps.toFixed(0)} ok/s, p50 ${report.e2eOk.p50.toFixed(1)} ms, ${JSON.stringify(report.byStatus)}`,
      );
      rows.push({ scenario: c.scenario, variant: `${mode} @${rate}/s`, report, extra: { offeredRps: rate, meanBatch: on ? batch : 1 } });
    }
    await Promise.all([sim.stop(), proxy.stop()]);
  }
  return rows;
}

/** Single-input embedding clients through the proxy, coalescing on and off, over a sweep of rates. */
export function embeddings(o: Options): Promise<Row[]> {
  const texts = Array.from({ length: 200 }, (_, i) => `passage ${i}: retrieval augmented generation splits documents into chunks and embeds each one`);
  return compareCoalescing(o, {
    name: 'embeddings',
    scenario: 'embeddings, single-input clients',
    // vLLM's API server spends real time per HTTP request (parsing, tokenizing, scheduling): 2 ms here.
    simArgs: ['--frontend-per-request-ms', '2', '--step-base-ms', '1', '--prefill-per-token-ms', '0.002'],
    proxyArgs: (on) => (on ? [] : ['--no-embeddings-batching']),
    rates: [500, 1000, 2000],
    request: (i) => ({ path: '/v1/embeddings', body: JSON.stringify({ model: EMBED, input: texts[i % texts.length] }), stream: false }),
  });
}

/** Single-prompt, non-streaming /v1/completions clients through the proxy, list-prompt coalescing on and off. */
export function completions(o: Options): Promise<Row[]> {
  return compareCoalescing(o, {
    name: 'completions',
    scenario: 'completions, single-prompt clients',
    // As for embeddings: vLLM's API server spends ~2 ms per HTTP request before the engine sees it.
    simArgs: ['--frontend-per-request-ms', '2', '--step-base-ms', '2', '--step-per-seq-ms', '0.05', '--prefill-per-token-ms', '0.002'],
    proxyArgs: (on) => ['--max-concurrency', '256', ...(on ? ['--completions-batching'] : [])],
    rates: [300, 600, 1200],
    request: (i) => ({
      path: '/v1/completions',
      body: JSON.stringify({
        model: MODEL,
        prompt: `Classify ticket ${i % 500}: the shard server refused a frame`,
        max_tokens: 4,
        ignore_eos: true,
        temperature: 0,
      }),
      stream: false,
    }),
  });
}

/** A RAG-shaped chat workload over 4 replicas: round robin vs prefix affinity. */
export async function routing(o: Options): Promise<Row[]> {
  const rows: Row[] = [];
  const system = 'You are a careful assistant. Answer only from the documents below and cite them by number. '.repeat(4);
  const docSets = Array.from({ length: 24 }, (_, s) =>
    Array.from(
      { length: 8 },
      (_, d) =>
        `[${d + 1}] Document ${s}-${d}: ` + `shard ${s} replica ${d} holds vectors whose nearest neighbours answer questions about topic ${s}. `.repeat(6),
    ).join('\n'),
  );
  for (const strategy of ['round-robin', 'prefix-affinity'] as const) {
    // Each replica's prefix cache holds about 8 of the 24 document sets.
    const sim = await startSim(['--replicas', '4', '--prefix-cache-tokens', '12000', '--step-base-ms', '6', '--prefill-per-token-ms', '0.02']);
    const proxy = await startProxy([...sim.urls.flatMap((u) => ['--upstream', u]), '--routing', strategy]);
    const report = await load(proxy.url, { arrival: 'poisson', rate: 30, durationS: 20 * o.scale, seed: 7 }, (i) => {
      const set = Math.floor((((i * 2654435761) >>> 0) / 4294967296) * docSets.length);
      return {
        path: '/v1/chat/completions',
        stream: true,
        body: JSON.stringify({
          model: MODEL,
          messages: [
            { role: 'system', content: `${system}\n${docSets[set]}` },
            { role: 'user', content: `Question ${i}: what does document ${(i % 8) + 1} say?` },
          ],
          max_tokens: 24,
          ignore_eos: true,
          stream: true,
          stream_options: { include_usage: true },
        }),
      };
    });
    let hits = 0;
    let queries = 0;
    for (const u of sim.urls) {
      hits += await scrape(u, 'vllm:prefix_cache_hits_total');
      queries += await scrape(u, 'vllm:prefix_cache_queries_total');
    }
    o.log(
      `  routing: ${strategy}: TTFT p50 ${report.ttft.p50.toFixed(1)} ms, p99 ${report.ttft.p99.toFixed(1)} ms, prefix hit ${((100 * hits) / queries).toFixed(0)}%`,
    );
    rows.push({ scenario: 'RAG chat over 4 replicas, 30 RPS', variant: strategy, report, extra: { prefixCacheHitPct: (100 * hits) / queries } });
    await Promise.all([sim.stop(), proxy.stop()]);
  }
  return rows;
}

/** Unloaded vs 10x the admitted capacity: 429 latency and admitted latency. */
export async function overload(o: Options): Promise<Row[]> {
  const concurrency = 8;
  const queue = 4;
  const sim = await startSim(['--step-base-ms', '6']);
  // Admitted requests may wait at most 200 ms for a slot, about one call here; one predicted to wait
  // more than half of that gets its 429 at once.
  const maxQueueWaitMs = 200;
  const proxy = await startProxy([
    '--upstream',
    sim.url,
    '--max-concurrency',
    String(concurrency),
    '--max-queue',
    String(queue),
    '--max-queue-wait-ms',
    String(maxQueueWaitMs),
  ]);
  const body = chat('Summarise the retrieved passages in one paragraph.', 32, false);
  const req = () => ({ path: '/v1/chat/completions', body, stream: false });
  // Capacity: concurrency / service time; measure the service time unloaded first.
  const unloaded = await load(proxy.url, { arrival: 'poisson', rate: 10, durationS: 6 * o.scale, seed: 3 }, req);
  const capacity = concurrency / (unloaded.e2eOk.p50 / 1000);
  const cpuBefore = cpuSeconds(proxy.child.pid!);
  const loaded = await load(proxy.url, { arrival: 'poisson', rate: Math.round(capacity * 10), durationS: 5 * o.scale, seed: 4 }, req);
  const proxyCpuUsPerRequest = ((cpuSeconds(proxy.child.pid!) - cpuBefore) * 1e6) / loaded.sent;
  o.log(
    `  overload: capacity ~${capacity.toFixed(0)} RPS; unloaded p99 ${unloaded.e2eOk.p99.toFixed(1)} ms; 10x: admitted p99 ${loaded.e2eOk.p99.toFixed(1)} ms, 429 p50 ${loaded.e2e429.p50.toFixed(2)} ms p99 ${loaded.e2e429.p99.toFixed(2)} ms, ${JSON.stringify(loaded.byStatus)}`,
  );
  const rss = await scrape(proxy.url, 'ragwire_proxy_process_resident_memory_bytes');
  await Promise.all([sim.stop(), proxy.stop()]);
  return [
    { scenario: 'overload', variant: 'unloaded (~0.15x capacity)', report: unloaded, extra: { capacityRps: capacity } },
    {
      scenario: 'overload',
      variant: `10x capacity (${Math.round(capacity * 10)} RPS)`,
      report: loaded,
      extra: { capacityRps: capacity, maxQueueWaitMs, proxyCpuUsPerRequest, proxyRssMiB: rss / 2 ** 20 },
    },
  ];
}

/** Streaming chat through the proxy across rates and arrival shapes. */
export async function sweep(o: Options): Promise<Row[]> {
  const rows: Row[] = [];
  const sim = await startSim(['--replicas', '2']);
  const proxy = await startProxy([...sim.urls.flatMap((u) => ['--upstream', u])]);
  const req = (i: number) => ({ path: '/v1/chat/completions', body: chat(`Explain vector search, take ${i}.`, 64, true), stream: true });
  const specs: LoadSpec[] = [
    { arrival: 'poisson', rate: 25, durationS: 4 * o.scale, seed: 11 },
    { arrival: 'poisson', rate: 50, durationS: 4 * o.scale, seed: 12 },
    { arrival: 'poisson', rate: 100, durationS: 4 * o.scale, seed: 13 },
    { arrival: 'constant', rate: 100, durationS: 4 * o.scale },
    { arrival: 'uniform', rate: 100, durationS: 4 * o.scale, seed: 14 },
    { arrival: 'bursts', rate: 100, durationS: 4 * o.scale, burstSize: 25, seed: 15 },
  ];
  for (const spec of specs) {
    const report = await load(proxy.url, spec, req);
    o.log(
      `  sweep: ${spec.arrival} @${spec.rate}: TTFT p50 ${report.ttft.p50.toFixed(1)} ms, ITL p50 ${report.itl.p50.toFixed(1)} ms, ${JSON.stringify(report.byStatus)}`,
    );
    rows.push({
      scenario: 'streaming chat sweep via proxy (2 replicas)',
      variant: `${spec.arrival} @${spec.rate}/s${spec.burstSize ? ` x${spec.burstSize}` : ''}`,
      report,
    });
  }
  await Promise.all([sim.stop(), proxy.stop()]);
  return rows;
}
