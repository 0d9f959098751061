// Where a device pays for flat search: one flat index on a device, searched with `onDevice: true`
// (the device's kernels) and `onDevice: false` (the CPU's kernels over the same host rows), for
// batches of 1 to 256 queries over 10k and 100k random rows at dim 128 and 768. Prints the median
// latency of each path, their ratio and the batch's work (queries x rows x dim, the unit of the
// store's `deviceMinWork`), with the share of result labels both paths agree on. Writes JSON.
// On PoCL the "device" is the same CPU through OpenCL: the crossover it shows is the mechanism's,
// not a GPU's. Usage: pnpm --filter @ragwire/bench device-crossover [--device opencl|cuda|auto]
//   [--rows 10000,100000] [--dims 128,768] [--batches 1,4,16,64,256] [--min-seconds 0.5] [--markdown]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createIndex, devices, type Device, type Index } from '@ragwire/native';
import { Prng } from '@ragwire/protocol';
import { describeMachine, machineLine } from './machine';
import { startProgress } from './progress';
import { fmt, quantile } from './stats';
import { renderTable } from './table';

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'opencl' },
    rows: { type: 'string', default: '10000,100000' },
    dims: { type: 'string', default: '128,768' },
    batches: { type: 'string', default: '1,4,16,64,256' },
    'min-seconds': { type: 'string', default: '0.5' },
    k: { type: 'string', default: '10' },
    markdown: { type: 'boolean', default: false },
  },
});
const list = (s: string): number[] => s.split(',').map(Number);
const device = values.device as Device;
if (!['opencl', 'cuda', 'auto'].includes(device)) throw new Error(`--device must be opencl, cuda or auto, got ${device}`);
const ROWS = list(values.rows!);
const DIMS = list(values.dims!);
const BATCHES = list(values.batches!);
const MIN_SECONDS = Number(values['min-seconds']);
const K = Number(values.k);

interface Cell {
  rows: number;
  dim: number;
  nq: number;
  work: number;
  cpuMs: number;
  deviceMs: number;
  /** cpuMs / deviceMs: above 1, the device is faster. */
  speedup: number;
  /** Share of result slots where both paths returned the same label. */
  agreement: number;
}

function randomRows(prng: Prng, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = prng.nextNormal();
  return out;
}

/** Median milliseconds of `search`, repeated until MIN_SECONDS passed (at least 3 runs). */
async function medianMs(search: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start) / 1000 < MIN_SECONDS) {
    const t0 = performance.now();
    await search();
    times.push(performance.now() - t0);
  }
  return quantile(times, 0.5);
}

const info = devices().find((d) => (device === 'auto' ? d.kind !== 'cpu' : d.kind === device));
if (!info) {
  console.log(`SKIPPED: no ${device} device in this build or machine`);
  process.exit(0);
}
const machine = describeMachine();
console.log(`machine: ${machineLine(machine)}`);
console.log(
  `device: ${info.name} (${info.kind}${info.gpu ? ', a GPU' : ", a CPU device: the crossover is the mechanism's, not a GPU's"}); flat f32, l2, k ${K}, random normal rows`,
);

const cells: Cell[] = [];
const prng = new Prng(7);
for (const dim of DIMS) {
  for (const rows of ROWS) {
    const index: Index = createIndex({ dim, metric: 'l2', kind: 'flat', device });
    try {
      const progress = startProgress(`${rows} rows x dim ${dim}`, BATCHES.length);
      await index.add(
        Uint32Array.from({ length: rows }, (_, i) => i),
        randomRows(prng, rows, dim),
      );
      const queries = randomRows(prng, Math.max(...BATCHES), dim);
      await index.search(queries.subarray(0, dim), K, { onDevice: true }); // kernels built, buffers allocated
      for (const [i, nq] of BATCHES.entries()) {
        const q = queries.subarray(0, nq * dim);
        const onCpu = await index.search(q, K, { onDevice: false });
        const onDev = await index.search(q, K, { onDevice: true });
        let same = 0;
        for (let j = 0; j < onCpu.labels.length; j++) if (onCpu.labels[j] === onDev.labels[j]) same++;
        const cpuMs = await medianMs(() => index.search(q, K, { onDevice: false }));
        const deviceMs = await medianMs(() => index.search(q, K, { onDevice: true }));
        cells.push({ rows, dim, nq, work: nq * rows * dim, cpuMs, deviceMs, speedup: cpuMs / deviceMs, agreement: same / onCpu.labels.length });
        progress.update(i + 1);
      }
      progress.stop();
    } finally {
      index.close();
    }
  }
}

const header = ['rows', 'dim', 'queries', 'work (q x rows x dim)', 'cpu ms', 'device ms', 'cpu / device', 'labels agree'];
const table = renderTable(
  header,
  cells.map((c) => [
    String(c.rows),
    String(c.dim),
    String(c.nq),
    c.work.toExponential(2),
    fmt(c.cpuMs, 2),
    fmt(c.deviceMs, 2),
    `${c.speedup.toFixed(2)}x`,
    c.agreement.toFixed(4),
  ]),
  values.markdown,
);
console.log(`\n${table}`);
const won = cells.filter((c) => c.speedup > 1);
console.log(
  won.length === 0
    ? '\nthe device was slower than the CPU path in every cell'
    : `\nsmallest batch work where the device was faster: ${Math.min(...won.map((c) => c.work)).toExponential(2)}`,
);

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', `device-crossover-${info.kind}-${new Date().toISOString().slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ machine, device: info, k: K, metric: 'l2', storage: 'f32', cells }, null, 2));
console.log(`wrote ${out}`);
