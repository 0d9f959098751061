// Where a collection's searches run when its flat index lives on a device (docs/engine.md "Devices").
// A device pays a fixed cost per search (copying the queries, launching kernels, reading back
// candidates) that a small batch never earns back; the index keeps its rows in host memory too, so a
// small batch runs on the CPU's kernels over them (`onDevice: false`), with the same results. The
// cut is the batch's work, queries x rows x dim, against StoreOptions.deviceMinWork
// (bench/src/device-crossover.ts measures it; docs/benchmarks.md §6).
import type { StatValue } from '@ragwire/protocol';
import type { Index } from '@ragwire/native';
import type { CollectionSettings } from './settings';

export class SearchPlacement {
  readonly #device: string;
  readonly #deviceKind: string;
  /** Only a flat index searches on its device; a device-built HNSW graph is searched on the CPU. */
  readonly #searchesOnDevice: boolean;
  readonly #minWork: number;
  #deviceSearches = 0;
  #cpuSearches = 0;

  constructor(index: Index, settings: CollectionSettings, minWork: number) {
    const s = index.stats();
    this.#device = s.device;
    this.#deviceKind = s.deviceKind;
    this.#searchesOnDevice = settings.kind === 'flat' && s.deviceKind !== 'cpu';
    this.#minWork = minWork;
  }

  /** Whether a batch of `nq` queries over `rows` rows of `dim` runs on the device; counts the answer. */
  onDevice(nq: number, rows: number, dim: number): boolean {
    const device = this.#searchesOnDevice && nq * rows * dim > this.#minWork;
    if (device) this.#deviceSearches++;
    else this.#cpuSearches++;
    return device;
  }

  /** `device` (its name, or 'cpu'), `device.kind`, and how many search batches ran on each side. */
  stats(): Record<string, StatValue> {
    return {
      device: this.#device,
      'device.kind': this.#deviceKind,
      'device.searches': this.#deviceSearches,
      'cpu.searches': this.#cpuSearches,
    };
  }
}
