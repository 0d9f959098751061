/**
 * ANN benchmark: ragwire vs hnswlib-node vs usearch (and LangChain's
 * MemoryVectorStore for exact search) on the same data, in one process.
 *
 *   pnpm --filter @ragwire/bench ann [--data bigann10k,bge-m3,synth-100k-128,synth-20k-768] [--full] [--scale 1]
 *       [--engines ragwire,usearch,hnswlib,langchain] [--queries 1000] [--k 10] [--target 0.95]
 *       [--min-seconds 1] [--langchain-max-floats 30000000] [--device opencl|cuda|auto] [--markdown] [--out FILE]
 *       [--flat-storages f32,sq8,f16]
 *
 * The default synthetic sets (100k x 128, 20k x 768) finish in about 20 minutes on 2 cores.
 * --full runs the full sizes, 1M x 128 and 200k x 768 (an hour or more: hnswlib-node builds one
 * point at a time on the JS thread). --scale multiplies every synthetic size. --device adds, per data set,
 * batched exact search and an HNSW build on that device vs the CPU engine (on PoCL: correctness only).
 * Engines ragwire-f16 and ragwire-sq8 are ragwire's graph walked on f16 / sq8 codes, ragwire-sq8-inline the sq8 walk
 * on codes copied beside each layer-0 link list (none in the default list).
 * --flat-storages times one exact query on a flat index of each storage against the bandwidth bound of the
 * bytes that storage scans.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine, machineLine } from '../machine';
import type { Device } from '@ragwire/native';
import type { EngineName } from './engines/engine';
import { loadData, describeSpec } from './data';
import { renderDevice, runDevice } from './device';
import { runExact } from './exact';
import { parseFlatStorages, runFlatScans } from './flat-scan';
import { renderDataset, renderSummary, type AnnReport, type DatasetResult } from './report';
import { runEngine, type EngineResult, type RunOptions } from './run-engine';

const ENGINES: EngineName[] = ['ragwire', 'ragwire-f16', 'ragwire-sq8', 'ragwire-sq8-inline', 'usearch', 'hnswlib', 'langchain'];
const DEFAULT_ENGINES: EngineName[] = ['ragwire', 'usearch', 'hnswlib', 'langchain'];
const EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    full: { type: 'boolean', default: false },
    scale: { type: 'string', default: '1' },
    engines: { type: 'string', default: DEFAULT_ENGINES.join(',') },
    'flat-storages': { type: 'string', default: '' },
    queries: { type: 'string', default: '1000' },
    k: { type: 'string', default: '10' },
    target: { type: 'string', default: '0.95' },
    'min-seconds': { type: 'string', default: '1' },
    'langchain-max-floats': { type: 'string', default: '30000000' },
    'langchain-seconds': { type: 'string', default: '10' },
    device: { type: 'string' },
    markdown: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: ann [--data LIST] [--full] [--scale S] [--engines LIST] [--queries N] [--k K] [--target R] [--min-seconds S]\n' +
      '           [--langchain-max-floats N] [--langchain-seconds S] [--device opencl|cuda|auto] [--markdown] [--out FILE]\n' +
      '           [--flat-storages f32,sq8,f16]\n' +
      `engines: ${ENGINES.join(', ')} (default ${DEFAULT_ENGINES.join(',')})\n`,
  );
  process.exit(0);
}

function positive(name: string, text: string | undefined): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got ${text}`);
  return v;
}

// An empty list (`--engines ''`) times only the exact side (and --flat-storages).
const engines = values
  .engines!.split(',')
  .map((e) => e.trim())
  .filter(Boolean) as EngineName[];
for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`unknown engine "${e}" (known: ${ENGINES.join(', ')})`);
const defaultData = values.full ? 'bigann10k,bge-m3,synth-1m-128,synth-200k-768' : 'bigann10k,bge-m3,synth-100k-128,synth-20k-768';
const specs = (values.data ?? defaultData)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const scale = positive('scale', values.scale);
const nQueries = Math.round(positive('queries', values.queries));
const langchainMaxFloats = positive('langchain-max-floats', values['langchain-max-floats']);
const opts: RunOptions = {
  k: Math.round(positive('k', values.k)),
  target: positive('target', values.target),
  efs: EFS,
  minSeconds: positive('min-seconds', values['min-seconds']),
  exactBudgetSeconds: positive('langchain-seconds', values['langchain-seconds']),
  M: 16,
  efConstruction: 200,
  seed: 42,
};
const md = values.markdown!;
const flatStorages = parseFlatStorages(values['flat-storages']!);
const device = values.device as Device | undefined;
if (device !== undefined && !['opencl', 'cuda', 'auto'].includes(device)) throw new Error(`--device must be opencl, cuda or auto, got ${device}`);

const machine = describeMachine();
process.stdout.write(`ANN benchmark on ${machineLine(machine)}\n`);
process.stdout.write(
  `M ${opts.M}, efConstruction ${opts.efConstruction}, k ${opts.k}, target recall@${opts.k} ${opts.target}, ` +
    `data ${specs.map((s) => describeSpec(s, scale)).join(', ')}\n\n`,
);

const report: AnnReport = {
  benchmark: 'ann',
  date: new Date().toISOString(),
  machine,
  params: { ...opts, scale, data: specs, engines },
  datasets: [],
};

for (const spec of specs) {
  const data = loadData(spec, scale, nQueries);
  if (data === null) {
    process.stdout.write(`${spec}: skipped, ../shared/data is absent\n\n`);
    continue;
  }
  const { set } = data;
  const fileTruth = data.truth && { ids: data.truth.groundTruth, stride: data.truth.gtK };
  const { exact, truth } = await runExact(set, opts.k, fileTruth, opts.minSeconds);
  const flatScans = flatStorages.length ? await runFlatScans(set, opts.k, truth, flatStorages, opts.minSeconds) : undefined;
  const results: EngineResult[] = [];
  for (const name of engines) {
    if (name === 'langchain' && set.nBase * set.dim > langchainMaxFloats) {
      results.push({ engine: 'langchain-memory', exact: true, skipped: `n x dim > ${langchainMaxFloats} (--langchain-max-floats)` });
      continue;
    }
    if (set.metric === 'l1' && name !== 'ragwire' && name !== 'langchain') {
      results.push({ engine: name, exact: false, skipped: 'no L1 metric' });
      continue;
    }
    results.push(await runEngine(name, set, truth, opts));
  }
  const result: DatasetResult = {
    name: set.name,
    description: data.description,
    nBase: set.nBase,
    nQueries: set.nQueries,
    dim: set.dim,
    metric: set.metric,
    exact,
    ...(flatScans ? { flatScans } : {}),
    engines: results,
    ...(device ? { device: await runDevice(set, opts.k, truth, device, opts) } : {}),
  };
  report.datasets.push(result);
  process.stdout.write(`${renderDataset(result, report.params, md)}\n\n`);
  if (result.device) process.stdout.write(`${renderDevice(result.device, md)}\n\n`);
}

process.stdout.write(`${renderSummary(report, md)}\n`);
const here = dirname(fileURLToPath(import.meta.url));
const out = values.out ?? join(here, '..', '..', 'results', `ann-${report.date.replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`\nwrote ${out}\n`);
