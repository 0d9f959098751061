/**
 * The --device mode: on the same data, batched exact search on a device
 * (OpenCL or CUDA) against the CPU engine's batched flat search, and an HNSW
 * graph built on the device against one built on the CPU (build time, recall
 * at equal efSearch). On an OpenCL device that is a CPU (PoCL, as in CI) only
 * the agreement and the recall mean anything; the table says so.
 */
import { recallAtK, type VectorSet } from '@ragwire/datasets';
import { createIndex, devices, type Device, type Index, type SearchResult } from '@ragwire/native';
import { fmt } from '../stats';
import { renderTable } from '../table';
import type { Truth } from './measure';

export interface DeviceExactRow {
  storage: 'f32' | 'f16';
  deviceQps: number;
  cpuQps: number;
  /** Fraction of result slots where the device gave the CPU's label, or a label tied with it. */
  agreement: number;
}

export interface DeviceResult {
  device: string;
  kind: Device;
  /** False for an OpenCL device that is a CPU (PoCL): its speed means nothing. */
  gpu: boolean;
  exact: DeviceExactRow[];
  graph: { efSearch: number; deviceBuildSeconds: number; cpuBuildSeconds: number; deviceRecall: number; cpuRecall: number };
}

export interface DeviceOptions {
  M: number;
  efConstruction: number;
  seed: number;
}

const GRAPH_EF = 64;

function agreement(got: SearchResult, want: SearchResult): number {
  let same = 0;
  for (let i = 0; i < want.labels.length; i++) {
    const a = want.scores[i]!,
      b = got.scores[i]!;
    if (got.labels[i] === want.labels[i] || a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b))) same++;
  }
  return same / want.labels.length;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, (performance.now() - t0) / 1000];
}

async function withIndex<T>(index: Index, fn: (index: Index) => Promise<T>): Promise<T> {
  try {
    return await fn(index);
  } finally {
    index.close();
  }
}

export async function runDevice(set: VectorSet, k: number, truth: Truth, device: Device, opts: DeviceOptions): Promise<DeviceResult> {
  const { dim, metric, nBase, nQueries } = set;
  const labels = Uint32Array.from({ length: nBase }, (_, i) => i);
  const exact: DeviceExactRow[] = [];
  let name = device as string;
  for (const storage of ['f32', 'f16'] as const) {
    const row = await withIndex(createIndex({ dim, metric, kind: 'flat', storage }), async (cpu) => {
      await cpu.add(labels, set.base);
      return withIndex(createIndex({ dim, metric, kind: 'flat', storage, device }), async (dev) => {
        await dev.add(labels, set.base);
        name = dev.stats().device;
        await dev.search(set.queries.subarray(0, Math.min(nQueries, 16) * dim), k); // kernels and buffers ready
        const [want, cpuS] = await timed(() => cpu.search(set.queries, k));
        const [got, devS] = await timed(() => dev.search(set.queries, k));
        return { storage, deviceQps: nQueries / devS, cpuQps: nQueries / cpuS, agreement: agreement(got, want) };
      });
    });
    exact.push(row);
  }
  const hnsw = { M: opts.M, efConstruction: opts.efConstruction, seed: opts.seed };
  const build = async (where: Device): Promise<[number, number]> =>
    withIndex(createIndex({ dim, metric, kind: 'hnsw', hnsw, device: where }), async (index) => {
      const [, s] = await timed(() => index.add(labels, set.base));
      const r = await index.search(set.queries, k, { efSearch: GRAPH_EF });
      return [s, recallAtK(r.labels, truth.ids, nQueries, k, truth.stride)];
    });
  const [deviceBuildSeconds, deviceRecall] = await build(device);
  const [cpuBuildSeconds, cpuRecall] = await build('cpu');
  const gpu = devices().find((d) => d.name === name)?.gpu ?? false;
  return { device: name, kind: device, gpu, exact, graph: { efSearch: GRAPH_EF, deviceBuildSeconds, cpuBuildSeconds, deviceRecall, cpuRecall } };
}

export function renderDevice(r: DeviceResult, md = false): string {
  const note = r.gpu ? '' : ` -- a CPU device (PoCL): correctness only, its speed means nothing`;
  const g = r.graph;
  return [
    `device ${r.kind}: ${r.device}${note}`,
    renderTable(
      ['storage', 'device batch QPS', 'CPU batch QPS', 'device / CPU', 'agreement with CPU'],
      r.exact.map((e) => [e.storage, fmt(e.deviceQps, 0), fmt(e.cpuQps, 0), `${(e.deviceQps / e.cpuQps).toFixed(2)}x`, e.agreement.toFixed(4)]),
      md,
    ),
    `HNSW built on the device: ${fmt(g.deviceBuildSeconds, 1)} s, recall@k ${g.deviceRecall.toFixed(3)} at efSearch ${g.efSearch}; ` +
      `on the CPU: ${fmt(g.cpuBuildSeconds, 1)} s, recall@k ${g.cpuRecall.toFixed(3)}`,
  ].join('\n');
}
