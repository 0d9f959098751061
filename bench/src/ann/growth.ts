/**
 * Growth series: how build time, resident memory and search speed change with the number of
 * vectors, for ragwire with its vectors in memory and on disk (sq8 codes and the graph in memory,
 * f32 rows in a mapped file) beside usearch and hnswlib-node, over the seeded synthetic mixture.
 *
 *   pnpm --filter @ragwire/bench ann-growth [--sizes 1m,2m] [--dim 128]
 *       [--engines ragwire,ragwire-sq8-disk,usearch,hnswlib] [--peers-up-to 1m] [--ef 96]
 *       [--queries 1000] [--k 10] [--min-seconds 2] [--dir DIR] [--markdown] [--out FILE]
 *
 * Each engine runs in a fresh child process that reads the base, queries and ground truth the
 * parent wrote to --dir, so no engine inherits another's freed heap. Resident memory is sampled
 * from /proc/self/status on a worker thread during each build (peak) and read after it: RssAnon (private memory) apart from RssFile (mapped file pages, which the
 * kernel can drop under pressure and read back). usearch and hnswlib-node run at sizes up to
 * --peers-up-to (hnswlib-node builds one point at a time on the JS thread). Searches run with the
 * page cache warm (the machine's RAM holds the vector file).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createIndex } from '@ragwire/native';
import { describeMachine, machineLine } from '../machine';
import { startProgress, withProgress } from '../progress';
import { MiB, fmt, settleMemory } from '../stats';
import { loadData } from './data';
import type { AnnEngine, EngineConfig } from './engines/engine';
import { HnswlibEngine } from './engines/hnswlib';
import { RagwireEngine } from './engines/ragwire';
import { UsearchEngine } from './engines/usearch';
import { measureBatch, measureSingle, type Truth } from './measure';
import { RssSampler, rssNow } from './rss-sampler';

const ENGINES = ['ragwire', 'ragwire-sq8', 'ragwire-sq8-disk', 'usearch', 'hnswlib'] as const;
type GrowthEngine = (typeof ENGINES)[number];
const PEERS: GrowthEngine[] = ['usearch', 'hnswlib'];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1m' },
    dim: { type: 'string', default: '128' },
    engines: { type: 'string', default: 'ragwire,ragwire-sq8-disk,usearch,hnswlib' },
    'peers-up-to': { type: 'string', default: '1m' },
    ef: { type: 'string', default: '96' },
    queries: { type: 'string', default: '1000' },
    k: { type: 'string', default: '10' },
    'min-seconds': { type: 'string', default: '2' },
    dir: { type: 'string' },
    child: { type: 'string' },
    n: { type: 'string' },
    markdown: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

function count(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!m) throw new Error(`bad size "${text}" (expected e.g. 500k, 1m, 2m)`);
  return Math.round(Number(m[1]) * { '': 1, k: 1e3, m: 1e6 }[m[2]!.toLowerCase() as '' | 'k' | 'm']);
}

const sizes = values.sizes!.split(',').map(count);
const dim = count(values.dim!);
const engines = values.engines!.split(',').map((e) => e.trim()) as GrowthEngine[];
for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`unknown engine "${e}" (known: ${ENGINES.join(', ')})`);
const peersUpTo = count(values['peers-up-to']!);
const ef = count(values.ef!);
const nq = count(values.queries!);
const k = count(values.k!);
const minSeconds = Number(values['min-seconds']);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'ragwire-growth-'));
const md = values.markdown!;

interface GrowthRow {
  engine: string;
  n: number;
  buildSeconds: number;
  /** Private resident memory added by the index: peak during the build, and after it. */
  peakAnonMiB: number;
  anonMiB: number;
  /** Mapped file pages resident after the build (the vector file, for vectors on disk). */
  fileMiB: number;
  /** The engine's own account of its memory, and the bytes of f32 rows in its mapped file. */
  engineMiB: number | null;
  mappedMiB: number;
  recall: number;
  qps: number;
  p50us: number;
  batchQps: number | null;
}

function makeEngine(name: GrowthEngine, config: EngineConfig, chunkRows: number, n: number): AnnEngine & { mappedBytes?: () => number } {
  switch (name) {
    case 'ragwire':
      return new RagwireEngine(config, chunkRows);
    case 'ragwire-sq8':
      return new RagwireEngine(config, chunkRows, 'sq8');
    case 'ragwire-sq8-disk':
      return new RagwireEngine(config, chunkRows, 'sq8', join(dir, `rows-${n}.f32`));
    case 'usearch':
      return new UsearchEngine(config, chunkRows);
    case 'hnswlib':
      return new HnswlibEngine(config);
  }
}

async function runOne(name: GrowthEngine, base: Float32Array, queries: Float32Array, n: number, truth: Truth, sampler: RssSampler): Promise<GrowthRow> {
  const config: EngineConfig = { dim, metric: 'l2', M: 16, efConstruction: 200, seed: 42 };
  await settleMemory();
  const before = rssNow();
  sampler.reset();
  const engine = makeEngine(name, config, Math.max(10_000, Math.ceil(n / 20)), n);
  try {
    const bar = startProgress(`${engine.name} ${n}: build`, n);
    const t0 = performance.now();
    await engine.build(base, n, (done) => bar.update(done));
    const buildSeconds = (performance.now() - t0) / 1000;
    bar.stop();
    const peak = sampler.peak();
    await settleMemory();
    const after = rssNow();
    const engineBytes = engine.memoryBytes();
    const mapped = engine.mappedBytes?.() ?? 0;
    engine.prepareQueries(queries, nq);
    await engine.setEfSearch!(ef, true);
    const single = await withProgress(`${engine.name} ${n}: queries`, 1, () => measureSingle(engine, 'sync', nq, k, truth, minSeconds));
    const batch = engine.searchBatch ? await measureBatch(engine, nq, k, truth, minSeconds) : null;
    return {
      engine: engine.name,
      n,
      buildSeconds,
      peakAnonMiB: (peak.anonBytes - before.anonBytes) / MiB,
      anonMiB: (after.anonBytes - before.anonBytes) / MiB,
      fileMiB: (after.fileBytes - before.fileBytes) / MiB,
      engineMiB: engineBytes === null ? null : engineBytes / MiB,
      mappedMiB: mapped / MiB,
      recall: single.recall,
      qps: single.qps,
      p50us: single.p50us,
      batchQps: batch?.qps ?? null,
    };
  } finally {
    engine.close();
    await settleMemory();
  }
}

function table(rows: GrowthRow[]): string {
  const head = [
    'engine',
    'vectors',
    'build s',
    'peak private MiB',
    'private MiB',
    'private MiB / 1M',
    'mapped pages MiB',
    'mapped file MiB',
    'engine MiB',
    `recall@${k}`,
    '1-query QPS',
    'p50 us',
    'batch QPS',
  ];
  const cells = rows.map((r) => [
    r.engine,
    r.n.toLocaleString('en-US'),
    fmt(r.buildSeconds, 1),
    fmt(r.peakAnonMiB),
    fmt(r.anonMiB),
    fmt((r.anonMiB / r.n) * 1e6),
    fmt(r.fileMiB),
    fmt(r.mappedMiB),
    r.engineMiB === null ? '-' : fmt(r.engineMiB),
    r.recall.toFixed(3),
    fmt(r.qps),
    fmt(r.p50us),
    r.batchQps === null ? '-' : fmt(r.batchQps),
  ]);
  if (md)
    return [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...cells.map((c) => `| ${c.join(' | ')} |`)].join(
      '\n',
    );
  return [head.join('\t'), ...cells.map((c) => c.join('\t'))].join('\n');
}

/** Child mode: one engine at one size, on the files the parent wrote; prints its row as JSON. */
if (values.child) {
  const n = count(values.n!);
  const floats = (file: string) => {
    const b = readFileSync(join(dir, file));
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  const base = floats(`base-${n}.f32`);
  const queries = floats(`queries-${n}.f32`);
  const t = readFileSync(join(dir, `truth-${n}.u32`));
  const truth: Truth = { ids: new Uint32Array(t.buffer, t.byteOffset, t.byteLength / 4), stride: k };
  const sampler = new RssSampler();
  const row = await runOne(values.child as GrowthEngine, base, queries, n, truth, sampler);
  await sampler.stop();
  rmSync(join(dir, `rows-${n}.f32`), { force: true });
  process.stdout.write(`ROW ${JSON.stringify(row)}\n`);
  process.exit(0);
}

const tsx = createRequire(import.meta.url).resolve('tsx');
function runChild(name: GrowthEngine, n: number): GrowthRow {
  const args = ['--conditions=ragwire-source', '--expose-gc', '--import', tsx, fileURLToPath(import.meta.url)];
  const flags = [
    '--child',
    name,
    '--n',
    String(n),
    '--dir',
    dir,
    '--ef',
    String(ef),
    '--queries',
    String(nq),
    '--k',
    String(k),
    '--min-seconds',
    String(minSeconds),
  ];
  const text = execFileSync(process.execPath, [...args, ...flags], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const line = text.split('\n').find((l) => l.startsWith('ROW '));
  if (!line) throw new Error(`${name} at ${n}: the child printed no result`);
  return JSON.parse(line.slice(4)) as GrowthRow;
}

const machine = describeMachine();
process.stdout.write(
  `ANN growth series on ${machineLine(machine)}\nM 16, efConstruction 200, efSearch ${ef}, k ${k}, ${nq} queries, sizes ${sizes.join(', ')} x ${dim}; ` +
    `vector files in ${dir}\n\n`,
);
const rows: GrowthRow[] = [];
const out =
  values.out ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results', `ann-growth-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
/** Written after every row, so a series cut short keeps what it measured. */
function save(): void {
  const params = { sizes, dim, engines, peersUpTo, ef, nq, k, minSeconds };
  writeFileSync(out, `${JSON.stringify({ benchmark: 'ann-growth', date: new Date().toISOString(), machine, params, rows }, null, 2)}\n`);
}
for (const n of sizes) {
  const data = loadData(`synth-${n}-${dim}`, 1, nq)!;
  const { set } = data;
  const truth = await withProgress(`exact top-${k} of ${n}`, 1, async () => {
    const flat = createIndex({ dim, metric: 'l2', kind: 'flat' });
    try {
      await flat.add(
        Uint32Array.from({ length: n }, (_, i) => i),
        set.base,
      );
      return { ids: (await flat.search(set.queries, k)).labels, stride: k } satisfies Truth;
    } finally {
      flat.close();
    }
  });
  writeFileSync(join(dir, `base-${n}.f32`), set.base);
  writeFileSync(join(dir, `queries-${n}.f32`), set.queries);
  writeFileSync(join(dir, `truth-${n}.u32`), truth.ids);
  process.stdout.write(`${data.description}\n`);
  const here: GrowthRow[] = [];
  for (const name of engines) {
    if (PEERS.includes(name) && n > peersUpTo) continue;
    const row = runChild(name, n);
    rows.push(row);
    here.push(row);
    save();
    process.stdout.write(`${table([row])}\n`);
  }
  process.stdout.write(`\n${table(here)}\n\n`);
  for (const f of [`base-${n}.f32`, `queries-${n}.f32`, `truth-${n}.u32`]) rmSync(join(dir, f), { force: true });
}
process.stdout.write(`${table(rows)}\n`);
save();
process.stdout.write(`\nwrote ${out}\n`);
if (!values.dir) rmSync(dir, { recursive: true, force: true });
