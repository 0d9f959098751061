/**
 * Growth series: how build time, resident memory and search speed change with the number of
 * vectors, for ragwire with its vectors in memory and on disk (sq8 codes and the graph in memory,
 * f32 rows in a mapped file) beside usearch and hnswlib-node, over the seeded synthetic mixture.
 *
 *   pnpm --filter @ragwire/bench ann-growth [--sizes 1m,2m] [--dim 128]
 *       [--engines ragwire,ragwire-sq8-disk,usearch,hnswlib] [--peers-up-to 1m] [--ef 96,256]
 *       [--queries 1000] [--k 10] [--min-seconds 2] [--warm-only] [--dir DIR] [--leg-minutes M] [--markdown] [--out FILE]
 *
 * Each engine runs in a fresh child process that reads the base, queries and ground truth the
 * parent wrote to --dir, so no engine inherits another's freed heap. Resident memory is sampled
 * from /proc/self/status on a worker thread during each build (peak) and read after it: RssAnon (private memory) apart from RssFile (mapped file pages, which the
 * kernel can drop under pressure and read back). usearch and hnswlib-node run at sizes up to
 * --peers-up-to (hnswlib-node builds one point at a time on the JS thread). Searches run with the
 * page cache warm (the machine's RAM holds the vector file). Each --ef in the list is one search
 * row under the same build. Bases over 2 GiB (5M x 128 and up) are written and read in chunks.
 *
 * Builds longer than one sitting (usearch at 10M: over two hours) run in legs: with --leg-minutes
 * and a --dir that lasts, a peer's build pauses between chunks once the next chunk would pass the
 * leg's minutes, its index is saved in --dir and the series stops there. The same command again
 * loads it and goes on; the inputs and the rows already measured are kept in --dir meanwhile. The
 * build time is the sum of the legs' build times (loading and saving between legs not counted), and
 * the row lists each leg's.
 *
 * With vectors on disk, each efSearch also gets a cold-cache row (unless --warm-only): the index is
 * saved once and opened again from its snapshot (the process then maps none of the vector file's
 * pages), the file's pages are dropped from the page cache (`dd iflag=nocache`: posix_fadvise
 * DONTNEED, no root needed; `fincore` confirms what stayed), and the queries run once, single-query,
 * so each rerank reads its rows from the device. The row gives the bytes this process read from
 * storage per query (/proc/self/io).
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
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
import { type AnnEngine, type EngineConfig, isResumable, type ResumableBuild } from './engines/engine';
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
    'warm-only': { type: 'boolean', default: false },
    dir: { type: 'string' },
    'leg-minutes': { type: 'string' },
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
const efs = values.ef!.split(',').map(count);
const nq = count(values.queries!);
const k = count(values.k!);
const minSeconds = Number(values['min-seconds']);
const warmOnly = values['warm-only']!;
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'ragwire-growth-'));
const md = values.markdown!;
const legMinutes = values['leg-minutes'] === undefined ? null : Number(values['leg-minutes']);
if (legMinutes !== null && !(legMinutes > 0)) throw new Error(`bad --leg-minutes "${values['leg-minutes']}" (expected minutes > 0)`);
if (legMinutes !== null && values.dir === undefined) throw new Error('--leg-minutes needs a --dir that lasts until the last leg');

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
  /** One search row per efSearch asked for. */
  searches: SearchRow[];
  /** Vectors on disk: one cold-cache row per efSearch (empty in memory, or with --warm-only). */
  cold?: ColdRow[];
  /** A build run in legs (--leg-minutes): each leg's build seconds, which buildSeconds sums. */
  legSeconds?: number[];
}

/** A build paused between legs: what the next leg goes on from. */
interface Leg {
  rowsDone: number;
  /** The saved index, a file in --dir. */
  index: string;
  legSeconds: number[];
  /** The highest peak of the legs so far, over the private memory before each leg's index. */
  peakAnonMiB: number;
}

interface SearchRow {
  ef: number;
  recall: number;
  qps: number;
  p50us: number;
  batchQps: number | null;
}

/** One pass of single queries after the vector file's pages left the page cache. */
interface ColdRow {
  ef: number;
  /** The vector file's pages still cached when the pass began (fincore). */
  cachedMiB: number;
  recall: number;
  qps: number;
  p50us: number;
  p99us: number;
  /** Bytes this process read from storage, per query. */
  readKiBPerQuery: number;
}

/** Largest piece one read or write moves (a single call stops short of 2 GiB, and a byte view of a base over 4 GiB cannot be made whole). */
const IO_CHUNK = 1 << 30;

/** Byte views of `data`, IO_CHUNK bytes each. */
function* pieces(data: Float32Array | Uint32Array): Generator<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += IO_CHUNK) yield new Uint8Array(data.buffer, data.byteOffset + at, Math.min(IO_CHUNK, data.byteLength - at));
}

/** Writes `data` to `file` in pieces, so bases over 2 GiB go through. */
function writeArray(file: string, data: Float32Array | Uint32Array): void {
  const fd = openSync(file, 'w');
  try {
    for (const piece of pieces(data)) for (let at = 0; at < piece.length; ) at += writeSync(fd, piece, at, piece.length - at);
  } finally {
    closeSync(fd);
  }
}

/** Reads `file` whole into a fresh array (in pieces: readFileSync stops at 2 GiB). */
function readArray<T extends Float32Array | Uint32Array>(file: string, make: (length: number) => T): T {
  const size = statSync(file).size;
  const out = make(size / 4);
  const fd = openSync(file, 'r');
  try {
    let position = 0;
    for (const piece of pieces(out))
      for (let at = 0; at < piece.length; ) {
        const got = readSync(fd, piece, at, piece.length - at, position);
        if (got === 0) throw new Error(`${file}: short read at ${position} of ${size} bytes`);
        at += got;
        position += got;
      }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Drops `file`'s pages from the page cache (those no process maps) and returns the bytes still cached. */
function evict(file: string): number {
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
}

/** Bytes this process has read from storage (page faults and readahead included). */
function storageReadBytes(): number {
  return Number(/^read_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

/**
 * The cold-cache rows of an index with vectors on disk: the index saved once, then per efSearch
 * reopened from that snapshot, the vector file evicted, and one pass of the queries.
 */
async function coldRows(engine: RagwireEngine, rowsFile: string, snapshot: string, truth: Truth): Promise<ColdRow[]> {
  const rows: ColdRow[] = [];
  await engine.save(snapshot);
  for (const ef of efs) {
    await engine.reopen(snapshot);
    engine.setEfSearch(ef);
    const cached = evict(rowsFile);
    const read0 = storageReadBytes();
    const run = await withProgress(`${engine.name}: cold queries at ef ${ef}`, 1, () => measureSingle(engine, 'sync', nq, k, truth, 0));
    rows.push({
      ef,
      cachedMiB: cached / MiB,
      recall: run.recall,
      qps: run.qps,
      p50us: run.p50us,
      p99us: run.p99us,
      readKiBPerQuery: (storageReadBytes() - read0) / 1024 / run.queries,
    });
  }
  return rows;
}

function rowsFile(n: number): string {
  return join(dir, `rows-${n}.f32`);
}

/** Files of a build in legs: the paused state, the index saved at `rowsDone` rows, and the row once measured. */
function legFiles(name: GrowthEngine, n: number): { state: string; index: (rowsDone: number) => string; row: string } {
  return {
    state: join(dir, `${name}-${n}.leg.json`),
    index: (rowsDone) => `${name}-${n}.leg-${rowsDone}.index`,
    row: join(dir, `${name}-${n}.row.json`),
  };
}

/**
 * Records a paused build. The index goes to a file of its own and the state is replaced whole
 * (write, then rename) before the last leg's index is removed, so a process killed at any point
 * leaves a state and the index it names.
 */
function savePause(engine: ResumableBuild, files: ReturnType<typeof legFiles>, leg: Leg, before: Leg | null): void {
  engine.saveBuild(join(dir, leg.index));
  writeFileSync(`${files.state}.part`, `${JSON.stringify(leg)}\n`);
  renameSync(`${files.state}.part`, files.state);
  if (before) rmSync(join(dir, before.index), { force: true });
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Builds rows [from, n). Under --leg-minutes an engine that can pause is asked after each chunk,
 * and pauses once the next chunk (taken to last as long as the one before) would pass the leg's end.
 */
async function build(engine: AnnEngine, base: Float32Array, n: number, from: number, onProgress: (rowsDone: number) => void): Promise<number> {
  if (legMinutes === null || !isResumable(engine)) {
    await engine.build(base, n, onProgress);
    return n;
  }
  const end = performance.now() + legMinutes * 60_000;
  let chunkStart = performance.now();
  return engine.buildRange(base, n, from, onProgress, () => {
    const now = performance.now();
    const next = 2 * now - chunkStart;
    chunkStart = now;
    return next > end;
  });
}

function makeEngine(name: GrowthEngine, config: EngineConfig, chunkRows: number, n: number): AnnEngine & { mappedBytes?: () => number } {
  switch (name) {
    case 'ragwire':
      return new RagwireEngine(config, chunkRows);
    case 'ragwire-sq8':
      return new RagwireEngine(config, chunkRows, { storage: 'sq8' });
    case 'ragwire-sq8-disk':
      return new RagwireEngine(config, chunkRows, { storage: 'sq8', vectorsPath: rowsFile(n) });
    case 'usearch':
      return new UsearchEngine(config, chunkRows);
    case 'hnswlib':
      return new HnswlibEngine(config);
  }
}

async function runOne(name: GrowthEngine, base: Float32Array, queries: Float32Array, n: number, truth: Truth, sampler: RssSampler): Promise<GrowthRow | Leg> {
  const config: EngineConfig = { dim, metric: 'l2', M: 16, efConstruction: 200, seed: 42 };
  await settleMemory();
  const before = rssNow();
  sampler.reset();
  const engine = makeEngine(name, config, Math.max(10_000, Math.ceil(n / 20)), n);
  try {
    const files = legFiles(name, n);
    const paused = legMinutes === null ? null : readJson<Leg>(files.state);
    if (paused && isResumable(engine))
      await withProgress(`${engine.name} ${n}: load the build paused at ${paused.rowsDone}`, 1, () => engine.loadBuild(join(dir, paused.index)));
    const from = paused?.rowsDone ?? 0;
    const bar = startProgress(`${engine.name} ${n}: build${from > 0 ? ` from ${from}` : ''}`, n);
    const t0 = performance.now();
    const rowsDone = await build(engine, base, n, from, (done) => bar.update(done));
    const legSeconds = [...(paused?.legSeconds ?? []), (performance.now() - t0) / 1000];
    bar.stop();
    const peakAnonMiB = Math.max(paused?.peakAnonMiB ?? 0, (sampler.peak().anonBytes - before.anonBytes) / MiB);
    if (rowsDone < n && isResumable(engine)) {
      const leg: Leg = { rowsDone, index: files.index(rowsDone), legSeconds, peakAnonMiB };
      await withProgress(`${engine.name} ${n}: save the build at ${rowsDone}`, 1, () => savePause(engine, files, leg, paused));
      return leg;
    }
    rmSync(files.state, { force: true });
    if (paused) rmSync(join(dir, paused.index), { force: true });
    const buildSeconds = legSeconds.reduce((a, b) => a + b, 0);
    await settleMemory();
    const after = rssNow();
    const engineBytes = engine.memoryBytes();
    const mapped = engine.mappedBytes?.() ?? 0;
    engine.prepareQueries(queries, nq);
    const searches: SearchRow[] = [];
    for (const ef of efs) {
      await engine.setEfSearch!(ef, true);
      const single = await withProgress(`${engine.name} ${n}: queries at ef ${ef}`, 1, () => measureSingle(engine, 'sync', nq, k, truth, minSeconds));
      const batch = engine.searchBatch ? await measureBatch(engine, nq, k, truth, minSeconds) : null;
      searches.push({ ef, recall: single.recall, qps: single.qps, p50us: single.p50us, batchQps: batch?.qps ?? null });
    }
    const cold =
      mapped > 0 && !warmOnly && engine instanceof RagwireEngine ? await coldRows(engine, rowsFile(n), join(dir, `index-${n}.snap`), truth) : undefined;
    return {
      engine: engine.name,
      n,
      buildSeconds,
      peakAnonMiB,
      anonMiB: (after.anonBytes - before.anonBytes) / MiB,
      fileMiB: (after.fileBytes - before.fileBytes) / MiB,
      engineMiB: engineBytes === null ? null : engineBytes / MiB,
      mappedMiB: mapped / MiB,
      searches,
      ...(cold ? { cold } : {}),
      ...(legSeconds.length > 1 ? { legSeconds } : {}),
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
    'efSearch',
    `recall@${k}`,
    '1-query QPS',
    'p50 us',
    'batch QPS',
  ];
  // The build's cells on its first search row only; the later efSearch rows leave them blank.
  const cells = rows.flatMap((r) =>
    r.searches.map((s, i) => [
      r.engine,
      r.n.toLocaleString('en-US'),
      ...(i === 0
        ? [
            fmt(r.buildSeconds, 1),
            fmt(r.peakAnonMiB),
            fmt(r.anonMiB),
            fmt((r.anonMiB / r.n) * 1e6),
            fmt(r.fileMiB),
            fmt(r.mappedMiB),
            r.engineMiB === null ? '-' : fmt(r.engineMiB),
          ]
        : ['', '', '', '', '', '', '']),
      String(s.ef),
      s.recall.toFixed(3),
      fmt(s.qps),
      fmt(s.p50us),
      s.batchQps === null ? '-' : fmt(s.batchQps),
    ]),
  );
  return render(head, cells);
}

/** The cold-cache rows of the engines that have them (vectors on disk). */
function coldTable(rows: GrowthRow[]): string {
  const head = ['engine', 'vectors', 'efSearch', 'file cached MiB', `recall@${k}`, '1-query QPS', 'p50 us', 'p99 us', 'read KiB / query'];
  const cells = rows.flatMap((r) =>
    (r.cold ?? []).map((c) => [
      `${r.engine}, cold cache`,
      r.n.toLocaleString('en-US'),
      String(c.ef),
      fmt(c.cachedMiB),
      c.recall.toFixed(3),
      fmt(c.qps),
      fmt(c.p50us),
      fmt(c.p99us),
      fmt(c.readKiBPerQuery),
    ]),
  );
  return cells.length > 0 ? render(head, cells) : '';
}

function render(head: string[], cells: string[][]): string {
  if (md)
    return [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...cells.map((c) => `| ${c.join(' | ')} |`)].join(
      '\n',
    );
  return [head.join('\t'), ...cells.map((c) => c.join('\t'))].join('\n');
}

/** A table and its cold-cache rows, where there are any. */
function tables(rows: GrowthRow[]): string {
  const cold = coldTable(rows);
  return cold ? `${table(rows)}\n\n${cold}` : table(rows);
}

/** Child mode: one engine at one size, on the files the parent wrote; prints its row as JSON. */
if (values.child) {
  const n = count(values.n!);
  const floats = (file: string) => readArray(join(dir, file), (length) => new Float32Array(length));
  const base = floats(`base-${n}.f32`);
  const queries = floats(`queries-${n}.f32`);
  const truth: Truth = { ids: readArray(join(dir, `truth-${n}.u32`), (length) => new Uint32Array(length)), stride: k };
  const sampler = new RssSampler();
  const result = await runOne(values.child as GrowthEngine, base, queries, n, truth, sampler);
  await sampler.stop();
  for (const f of [rowsFile(n), join(dir, `index-${n}.snap`)]) rmSync(f, { force: true });
  process.stdout.write(`${'rowsDone' in result ? 'LEG' : 'ROW'} ${JSON.stringify(result)}\n`);
  process.exit(0);
}

const tsx = createRequire(import.meta.url).resolve('tsx');
function runChild(name: GrowthEngine, n: number): GrowthRow | Leg {
  const args = ['--conditions=ragwire-source', '--expose-gc', '--import', tsx, fileURLToPath(import.meta.url)];
  const flags = [
    '--child',
    name,
    '--n',
    String(n),
    '--dim',
    String(dim),
    '--dir',
    dir,
    '--ef',
    efs.join(','),
    '--queries',
    String(nq),
    '--k',
    String(k),
    '--min-seconds',
    String(minSeconds),
    ...(legMinutes === null ? [] : ['--leg-minutes', String(legMinutes)]),
  ];
  const text = execFileSync(process.execPath, [...args, ...flags], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const line = text.split('\n').find((l) => l.startsWith('ROW ') || l.startsWith('LEG '));
  if (!line) throw new Error(`${name} at ${n}: the child printed no result`);
  return JSON.parse(line.slice(4)) as GrowthRow | Leg;
}

const machine = describeMachine();
process.stdout.write(
  `ANN growth series on ${machineLine(machine)}\nM 16, efConstruction 200, efSearch ${efs.join(' / ')}, k ${k}, ${nq} queries, sizes ${sizes.join(', ')} x ${dim}; ` +
    `vector files in ${dir}\n\n`,
);
const rows: GrowthRow[] = [];
let paused: { name: GrowthEngine; n: number; leg: Leg } | null = null;
const out =
  values.out ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results', `ann-growth-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
/** Written after every row, so a series cut short keeps what it measured, and a paused build says how far it got. */
function save(): void {
  const params = { sizes, dim, engines, peersUpTo, efs, nq, k, minSeconds, legMinutes };
  const pause = paused === null ? {} : { paused: { engine: paused.name, size: paused.n, ...paused.leg } };
  writeFileSync(out, `${JSON.stringify({ benchmark: 'ann-growth', date: new Date().toISOString(), machine, params, rows, ...pause }, null, 2)}\n`);
}
/**
 * Generates the base at size n, its ground truth from ragwire's exact flat index, and writes the
 * children's files; nothing of it stays referenced here, so the parent's copy is freed before the
 * children build (at 10M x 128 the base alone is 4.8 GiB).
 */
async function writeInputs(n: number): Promise<string> {
  const kept = legMinutes === null ? null : readJson<string>(inputsWritten(n));
  if (kept !== null) return `${kept} (inputs kept from an earlier leg)`;
  const data = loadData(`synth-${n}-${dim}`, 1, nq)!;
  const { set } = data;
  const truth = await withProgress(`exact top-${k} of ${n}`, 1, async () => {
    const flat = createIndex({ dim, metric: 'l2', kind: 'flat' });
    try {
      await flat.add(
        Uint32Array.from({ length: n }, (_, i) => i),
        set.base,
      );
      return (await flat.search(set.queries, k)).labels;
    } finally {
      flat.close();
    }
  });
  writeArray(join(dir, `base-${n}.f32`), set.base);
  writeArray(join(dir, `queries-${n}.f32`), set.queries);
  writeArray(join(dir, `truth-${n}.u32`), truth);
  // Under --leg-minutes the inputs outlast the process; the mark says they were written whole.
  if (legMinutes !== null) writeFileSync(inputsWritten(n), `${JSON.stringify(data.description)}\n`);
  return data.description;
}

function inputsWritten(n: number): string {
  return join(dir, `inputs-${n}.done`);
}

/** Under --leg-minutes a row measured in an earlier run of the series is read back, not run again. */
function measure(name: GrowthEngine, n: number): GrowthRow | Leg {
  if (legMinutes === null) return runChild(name, n);
  const file = legFiles(name, n).row;
  const kept = readJson<GrowthRow>(file);
  if (kept !== null) return kept;
  const result = runChild(name, n);
  if (!('rowsDone' in result)) writeFileSync(file, `${JSON.stringify(result)}\n`);
  return result;
}

series: for (const n of sizes) {
  const names = engines.filter((name) => !(PEERS.includes(name) && n > peersUpTo));
  const measured = legMinutes !== null && names.every((name) => existsSync(legFiles(name, n).row));
  if (!measured) process.stdout.write(`${await writeInputs(n)}\n`);
  await settleMemory();
  const here: GrowthRow[] = [];
  for (const name of names) {
    const result = measure(name, n);
    if ('rowsDone' in result) {
      paused = { name, n, leg: result };
      break series;
    }
    rows.push(result);
    here.push(result);
    save();
    process.stdout.write(`${tables([result])}\n`);
  }
  // The size's table when it has more than one engine's rows, and the whole series' when it has more than one size.
  if (here.length > 1) process.stdout.write(`\n${tables(here)}\n\n`);
  for (const f of [`base-${n}.f32`, `queries-${n}.f32`, `truth-${n}.u32`, `inputs-${n}.done`]) rmSync(join(dir, f), { force: true });
}
save();
if (paused) {
  const { name, n, leg } = paused;
  const seconds = leg.legSeconds.reduce((a, b) => a + b, 0);
  process.stdout.write(
    `\n${name} ${n}: build paused at ${leg.rowsDone} of ${n} rows after ${fmt(seconds)} s in ${leg.legSeconds.length} leg(s), saved in ${dir}; ` +
      `the same command again goes on from there\nwrote ${out}\n`,
  );
} else {
  if (sizes.length > 1) process.stdout.write(`${tables(rows)}\n`);
  if (legMinutes !== null) for (const n of sizes) for (const name of engines) rmSync(legFiles(name, n).row, { force: true });
  process.stdout.write(`\nwrote ${out}\n`);
  if (!values.dir) rmSync(dir, { recursive: true, force: true });
}
