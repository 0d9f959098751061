// Where and how a collection's searches run: an exact scan or the index (the planner, docs/search.md
// §4), and, for a flat index on a device, the device or the CPU (docs/engine.md "Devices").
//
// The planner. Below exactScanBytes of vectors to compare (the collection's, or the allow-list's
// when a filter is set: its exact count comes from the filter index), a brute-force scan is as fast
// as the graph and finds what a walk can miss: scan. Above it, a filtered HNSW search compares the
// costs: a scan reads allowed x dim floats; a walk that must collect efSearch allowed rows at
// selectivity s = allowed / rows meets about efSearch / s nodes and reads M neighbours' vectors at
// each, WALK_COST x efSearch x M x dim / s, in the units of a scan's sequential reads (a walk's
// reads are random, and a walk whose filter follows the clusters widens; bench/src/hybrid/filtered.ts
// measures both). The cheaper one runs; the crossover is allowed ~ sqrt(WALK_COST x efSearch x M x rows).
//
// Placement. A device pays a fixed cost per search (copying the queries, launching kernels, reading
// back candidates) that a small batch never earns back; the index keeps its rows in host memory too,
// so a small batch runs on the CPU's kernels over them (`onDevice: false`), with the same results.
// The cut is the batch's work, queries x rows x dim, against StoreOptions.deviceMinWork
// (bench/src/device-crossover.ts measures it; docs/benchmarks.md §6).
import type { StatValue } from '@ragwire/protocol';
import type { DataPlanePlanRules, Index } from '@ragwire/native';
import type { CollectionSettings } from './settings';

/** See StoreOptions.exactScanBytes: 2 MiB, the measured crossover where a scan of a whole collection costs what an HNSW walk does. */
export const DEFAULT_EXACT_SCAN_BYTES = 2 * 1024 * 1024; // 2 MiB

/**
 * A filtered walk's cost per (efSearch x M / selectivity) vectors, against a scan's one per allowed
 * row. Measured on 100k x 128 (docs/benchmarks.md §5): 0.75 with filters spread over the graph, and
 * more where the walk widens on a filter that follows the clusters; 2 leans to the scan near the
 * crossover, where the scan is as fast and exact.
 */
const WALK_COST = 2;

export class SearchPlacement {
  readonly #device: string;
  readonly #deviceKind: string;
  /** Only a flat index searches on its device; a device-built HNSW graph is searched on the CPU. */
  readonly #searchesOnDevice: boolean;
  readonly #minWork: number;
  readonly #kind: CollectionSettings['kind'];
  readonly #exactScanBytes: number;
  /** HNSW: the graph's M and default efSearch, for the walk's cost. */
  readonly #M: number;
  readonly #efSearch: number;
  #deviceSearches = 0;
  #cpuSearches = 0;
  #scans = 0;
  #walks = 0;

  constructor(index: Index, settings: CollectionSettings, options: { deviceMinWork: number; exactScanBytes: number }) {
    const s = index.stats();
    this.#device = s.device;
    this.#deviceKind = s.deviceKind;
    this.#searchesOnDevice = settings.kind === 'flat' && s.deviceKind !== 'cpu';
    this.#minWork = options.deviceMinWork;
    this.#kind = settings.kind;
    this.#exactScanBytes = options.exactScanBytes;
    this.#M = s.M ?? 0;
    this.#efSearch = s.efSearch ?? 0;
  }

  /** The rules exactScan decides from, for a native data plane to decide the same (its search_plan.hpp). */
  rules(): DataPlanePlanRules {
    return { exactScanBytes: this.#exactScanBytes, walkCost: WALK_COST, M: this.#M, efSearch: this.#efSearch };
  }

  /**
   * Whether a search of k over `allowed` of `rows` rows (allowed = rows without a filter) runs as an
   * exact scan instead of the index. A flat index is a scan already: never. Counts filtered plans.
   */
  exactScan(allowed: number, rows: number, dim: number, k: number, efSearch: number | undefined): boolean {
    if (this.#kind === 'flat') return false;
    const filtered = allowed < rows;
    const scan = allowed * dim * 4 <= this.#exactScanBytes || (filtered && this.#exactScanBytes > 0 && this.#scanIsCheaper(allowed, rows, k, efSearch));
    if (filtered) {
      if (scan) this.#scans++;
      else this.#walks++;
    }
    return scan;
  }

  /** HNSW: allowed (the scan's rows) against WALK_COST x ef x M / selectivity (the walk's). */
  #scanIsCheaper(allowed: number, rows: number, k: number, efSearch: number | undefined): boolean {
    if (this.#kind !== 'hnsw') return false;
    if (allowed === 0) return true;
    const ef = Math.max(efSearch ?? this.#efSearch, k);
    return allowed <= (WALK_COST * ef * this.#M * rows) / allowed;
  }

  /** Whether a batch of `nq` queries over `rows` rows of `dim` runs on the device; counts the answer. */
  onDevice(nq: number, rows: number, dim: number): boolean {
    const device = this.#searchesOnDevice && nq * rows * dim > this.#minWork;
    if (device) this.#deviceSearches++;
    else this.#cpuSearches++;
    return device;
  }

  /** `device` (its name, or 'cpu'), `device.kind`, how many search batches ran on each side, and how filtered searches were planned. */
  stats(): Record<string, StatValue> {
    return {
      device: this.#device,
      'device.kind': this.#deviceKind,
      'device.searches': this.#deviceSearches,
      'cpu.searches': this.#cpuSearches,
      'filter.scans': this.#scans,
      'filter.walks': this.#walks,
    };
  }
}
