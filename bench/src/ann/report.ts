/** Tables (terminal or Markdown) and the JSON record of an ANN benchmark run. */
import type { Machine } from '../machine';
import { machineLine } from '../machine';
import { fmt } from '../stats';
import { renderTable } from '../table';
import type { DeviceResult } from './device';
import type { ExactResult } from './exact';
import type { FlatScan } from './flat-scan';
import type { EngineResult, RunOptions } from './run-engine';

const pct = (f: number): string => `${(f * 100).toFixed(0)}%`;

export interface DatasetResult {
  name: string;
  description: string;
  nBase: number;
  nQueries: number;
  dim: number;
  metric: string;
  exact: ExactResult;
  /** With --flat-storages: one exact query per storage against its bandwidth bound. */
  flatScans?: FlatScan[];
  engines: EngineResult[];
  /** With --device: exact search and an HNSW build on the device vs the CPU engine. */
  device?: DeviceResult;
}

export interface AnnReport {
  benchmark: 'ann';
  date: string;
  machine: Machine;
  params: RunOptions & { scale: number; data: string[]; engines: string[] };
  datasets: DatasetResult[];
}

/** Below this size a base may be served from CPU caches rather than DRAM. */
const CACHE_RESIDENT_BYTES = 64 * 2 ** 20;

const byName = (d: DatasetResult, prefix: string): EngineResult | undefined => d.engines.find((e) => e.engine.startsWith(prefix) && !e.skipped);
const exactly = (d: DatasetResult, name: string): EngineResult | undefined => d.engines.find((e) => e.engine === name && !e.skipped);

function ratio(a: number | undefined, b: number | undefined): string {
  return a && b ? `${(a / b).toFixed(2)}x` : '-';
}

/** Ratios of ragwire's QPS to each peer's: single vs single, batched vs the peer's best batched or single. */
export function ratios(d: DatasetResult) {
  const rw = exactly(d, 'ragwire');
  const hn = byName(d, 'hnswlib');
  const us = byName(d, 'usearch');
  return {
    singleVsHnswlib: ratio(rw?.single?.qps, hn?.single?.qps),
    singleVsUsearch: ratio(rw?.single?.qps, us?.single?.qps),
    // hnswlib-node has no batch search: its batched figure is its single-query one.
    batchVsHnswlib: ratio(rw?.batch?.qps, hn?.single?.qps),
    batchVsUsearch: ratio(rw?.batch?.qps, us?.batch?.qps),
  };
}

function engineRows(d: DatasetResult, target: number): string[][] {
  return d.engines.map((e) => {
    if (e.skipped) return [e.engine, `skipped: ${e.skipped}`, '', '', '', '', '', '', '', '', ''];
    const recall = e.single?.recall ?? e.singleAsync?.recall ?? e.batch?.recall;
    const ef = e.exact ? 'exact' : `${e.efSearch}${e.reachedTarget ? '' : ` (<${target})`}`;
    const s = e.single ?? e.singleAsync;
    return [
      e.engine,
      fmt(e.buildSeconds, 1),
      fmt(e.rssDeltaMiB, 0),
      fmt(e.engineMiB, 0),
      ef,
      fmt(recall, 3),
      fmt(e.single?.qps, 0),
      fmt(s?.p50us, 0),
      fmt(s?.p99us, 0),
      fmt(e.singleAsync?.qps, 0),
      fmt(e.batch?.qps, 0),
    ];
  });
}

function flatScanTable(scans: FlatScan[], k: number, md: boolean): string {
  const spread = (fs: number[]): string => `${pct(Math.min(...fs))}-${pct(Math.max(...fs))}`;
  const rows = scans.map((x) => [
    x.storage,
    fmt(x.scanBytes / 2 ** 20, 1),
    `${fmt(x.bandwidthGBs, 1)} (${fmt(x.bandwidthRangeGBs[0], 1)}-${fmt(x.bandwidthRangeGBs[1], 1)})`,
    fmt(x.boundUs, 0),
    fmt(x.syncP50us, 0),
    fmt(x.scanBytes / x.syncP50us / 1e3, 1),
    `${pct(x.syncFractionOfBound)} (${spread(x.syncRoundFractions)})`,
    fmt(x.asyncP50us, 0),
    `${pct(x.asyncFractionOfBound)} (${spread(x.asyncRoundFractions)})`,
    String(x.syncRoundFractions.length),
    x.recall.toFixed(3),
  ]);
  return renderTable(
    [
      'flat storage',
      'scanned MiB',
      'read GB/s (range)',
      'bound us',
      'sync p50 us',
      'sync GB/s',
      'sync of bound (rounds)',
      'async p50 us',
      'async of bound (rounds)',
      'rounds',
      `recall@${k}`,
    ],
    rows,
    md,
  );
}

/** ragwire's quantized walks against its f32 walk and against hnswlib-node's single-query QPS. */
function storageLines(d: DatasetResult): string[] {
  const f32 = exactly(d, 'ragwire');
  const hn = byName(d, 'hnswlib');
  const sq8 = exactly(d, 'ragwire-sq8');
  const inline = exactly(d, 'ragwire-sq8-inline');
  const lines = ['ragwire-f16', 'ragwire-sq8', 'ragwire-sq8-inline'].flatMap((name) => {
    const e = exactly(d, name);
    if (!e || (!f32 && !hn)) return [];
    return [
      `${name} vs ragwire (f32): single ${ratio(e.single?.qps, f32?.single?.qps)}, async 1-query ${ratio(e.singleAsync?.qps, f32?.singleAsync?.qps)}, ` +
        `batched ${ratio(e.batch?.qps, f32?.batch?.qps)}; async 1-query vs hnswlib-node single ${ratio(e.singleAsync?.qps, hn?.single?.qps)}`,
    ];
  });
  if (sq8 && inline)
    lines.push(
      `ragwire-sq8-inline vs ragwire-sq8: single ${ratio(inline.single?.qps, sq8.single?.qps)}, batched ${ratio(inline.batch?.qps, sq8.batch?.qps)}, ` +
        `engine memory ${ratio(inline.engineMiB ?? undefined, sq8.engineMiB ?? undefined)}`,
    );
  return lines;
}

function curveTable(d: DatasetResult, md: boolean): string {
  const swept = d.engines.filter((e) => e.curve?.length);
  if (swept.length === 0) return '';
  const efs = swept[0]!.curve!.map((p) => p.efSearch);
  const rows = efs.map((ef, i) => [
    String(ef),
    ...swept.map((e) => {
      const p = e.curve![i];
      return p ? `${p.recall.toFixed(3)} @ ${fmt(p.qps, 0)}` : '-';
    }),
  ]);
  return renderTable(['efSearch', ...swept.map((e) => `${e.engine} recall@k @ 1-query QPS`)], rows, md);
}

export function renderDataset(d: DatasetResult, params: AnnReport['params'], md = false): string {
  const x = d.exact;
  const r = ratios(d);
  const lc = byName(d, 'langchain');
  const lines = [
    md ? `### ${d.name}` : `=== ${d.name} ===`,
    d.description,
    '',
    renderTable(
      [
        'engine',
        'build s',
        'RSS delta MiB',
        'engine MiB',
        `efSearch@${params.target}`,
        `recall@${params.k}`,
        '1-query QPS',
        'p50 us',
        'p99 us',
        'async 1-query QPS',
        'batch QPS',
      ],
      engineRows(d, params.target),
      md,
    ),
    '',
    `ragwire vs hnswlib-node: single ${r.singleVsHnswlib}, batched ${r.batchVsHnswlib} (hnswlib-node has no batch search; vs its single-query QPS)`,
    `ragwire vs usearch:      single ${r.singleVsUsearch}, batched ${r.batchVsUsearch}`,
    `ragwire async 1-query vs hnswlib-node single: ${ratio(exactly(d, 'ragwire')?.singleAsync?.qps, byName(d, 'hnswlib')?.single?.qps)}`,
    ...storageLines(d),
    '',
    `exact search (ragwire flat): 1-query p50 ${fmt(x.syncP50us, 0)} us sync / ${fmt(x.asyncP50us, 0)} us async; ` +
      `bandwidth bound ${fmt(x.boundUs, 0)} us (${fmt(x.scanBytes / 2 ** 20, 1)} MiB at ${fmt(x.bandwidthGBs, 1)} GB/s) -> ` +
      `${pct(x.syncFractionOfBound)} sync, ${pct(x.asyncFractionOfBound)} async of the bound (median of ${x.syncRoundFractions.length} rounds); batched ${fmt(x.batchQps, 0)} QPS` +
      (x.groundTruthSeconds !== null ? `; ground truth from it in ${fmt(x.groundTruthSeconds, 2)} s` : ''),
    x.scanBytes < CACHE_RESIDENT_BYTES
      ? `  (a ${fmt(x.scanBytes / 2 ** 20, 1)} MiB base can stay in CPU caches, so it may beat the DRAM bound; the bound speaks of bases far larger than the caches)`
      : '',
    d.flatScans ? flatScanTable(d.flatScans, params.k, md) : '',
    lc?.singleAsync
      ? `LangChain MemoryVectorStore (exact, JS): ${fmt(lc.singleAsync.qps, 1)} QPS, recall ${lc.singleAsync.recall.toFixed(3)} over ${lc.singleAsync.queries} queries; ` +
        `ragwire flat 1-query is ${ratio(1e6 / x.syncP50us, lc.singleAsync.qps)} faster`
      : '',
    '',
    curveTable(d, md),
  ];
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}

export function renderSummary(report: AnnReport, md = false): string {
  const rows = report.datasets.map((d) => {
    const r = ratios(d);
    return [d.name, r.singleVsHnswlib, r.singleVsUsearch, r.batchVsHnswlib, r.batchVsUsearch, pct(d.exact.syncFractionOfBound)];
  });
  return [
    md ? '### Summary' : '=== summary: ragwire QPS / peer QPS at recall@10 >= target ===',
    `machine: ${machineLine(report.machine)}`,
    `params: M ${report.params.M}, efConstruction ${report.params.efConstruction}, k ${report.params.k}, target recall ${report.params.target}, scale ${report.params.scale}`,
    '',
    renderTable(['data', 'single vs hnswlib', 'single vs usearch', 'batch vs hnswlib*', 'batch vs usearch', 'flat of bw bound'], rows, md),
    '* hnswlib-node has no batch search; its single-query QPS stands in.',
  ].join('\n');
}
