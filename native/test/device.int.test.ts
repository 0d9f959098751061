/*
 * Exact search on a device (OpenCL on PoCL in CI; CUDA where a GPU is present)
 * equals the CPU engine: every metric, f32 and f16, k from 1 to 1024, filters,
 * tombstones, compaction, rows held resident and rows streamed in tiles,
 * and snapshots loaded back onto the device.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Prng, loadBgeM3Sentence, loadBigann10k, type Dataset, type Metric } from '@ragwire/datasets';
import { createIndex, devices, loadIndex, type Device, type Index, type IndexOptions } from '@ragwire/native';
import { DEVICE_TARGETS, HAS_OPENCL, NO_DEVICE, expectSameAsCpu } from './device-support';
import { NO_DATA, labelRange } from './support';

const METRICS: Metric[] = ['l2', 'ip', 'cosine', 'l1'];
const STORAGES = ['f32', 'f16'] as const;
const KS = [1, 10, 100, 1024];

describe('devices()', () => {
  it('lists the CPU first, then each device with its memory and compute units', () => {
    const list = devices();
    expect(list[0]!.kind).toBe('cpu');
    for (const d of list) {
      expect(['cpu', 'opencl', 'cuda']).toContain(d.kind);
      expect(d.name.length).toBeGreaterThan(0);
      expect(d.memoryBytes).toBeGreaterThan(0);
      expect(d.computeUnits).toBeGreaterThan(0);
    }
  });

  // CI installs PoCL (scripts/bootstrap.sh): there the OpenCL suites must run, not skip.
  it.runIf(process.env.CI)('CI has an OpenCL device', () => {
    expect(HAS_OPENCL, 'no OpenCL device: is pocl-opencl-icd installed and the addon built with ocl-icd-opencl-dev?').toBe(true);
  });
});

/** Adds the rows in three batches, so a resident device copy grows twice. */
async function addInBatches(index: Index, data: Dataset, labels: Uint32Array): Promise<void> {
  const cuts = [0, Math.floor(data.nBase / 3), Math.floor((2 * data.nBase) / 3), data.nBase];
  for (let b = 0; b < 3; b++) {
    const [s, e] = [cuts[b]!, cuts[b + 1]!];
    await index.add(labels.subarray(s, e), data.base.subarray(s * data.dim, e * data.dim));
  }
}

async function pair(data: Dataset, options: Omit<IndexOptions, 'dim'>, device: Device, labels: Uint32Array) {
  const cpu = createIndex({ ...options, dim: data.dim, kind: 'flat' });
  const dev = createIndex({ ...options, dim: data.dim, kind: 'flat', device });
  await addInBatches(cpu, data, labels);
  await addInBatches(dev, data, labels);
  // The device must really hold the rows: a silent fallback to the CPU would pass every comparison.
  expect(dev.stats().deviceKind).toBe(device);
  expect(dev.stats().deviceMemoryBytes).toBeGreaterThan(0);
  return { cpu, dev };
}

function suite(name: string, data: Dataset | null, tileRows: number): void {
  for (const device of DEVICE_TARGETS) {
    describe.skipIf(!data)(data ? `${device}: flat on ${name}` : `${device}: flat on ${name} (${NO_DATA})`, () => {
      for (const metric of METRICS) {
        for (const storage of STORAGES) {
          it(`equals the CPU engine: ${metric}, ${storage}, k ${KS.join('/')}, resident and in tiles of ${tileRows} rows`, async () => {
            const d = data!;
            const labels = labelRange(d.nBase, 7);
            const { cpu, dev } = await pair(d, { metric, storage }, device, labels);
            const tiled = createIndex({ dim: d.dim, metric, storage, kind: 'flat', device, deviceTileRows: tileRows });
            try {
              await addInBatches(tiled, d, labels);
              for (const k of KS) {
                const want = await cpu.search(d.queries, k);
                expectSameAsCpu(await dev.search(d.queries, k), want, `${metric} ${storage} k ${k} resident`);
                expectSameAsCpu(await tiled.search(d.queries, k), want, `${metric} ${storage} k ${k} tiled`);
              }
              expectSameAsCpu(dev.searchSync(d.queries, 10), cpu.searchSync(d.queries, 10), `${metric} ${storage} searchSync`);
            } finally {
              cpu.close();
              dev.close();
              tiled.close();
            }
          });
        }
      }

      it('a snapshot loads back onto the device (and onto the CPU by default)', async () => {
        const d = data!;
        const dir = mkdtempSync(join(tmpdir(), 'ragwire-device-load-'));
        const labels = labelRange(d.nBase, 3);
        const { cpu, dev } = await pair(d, { metric: d.metric, storage: 'f16' }, device, labels);
        try {
          const path = join(dir, 'flat.rwi');
          await dev.save(path);
          const want = await cpu.search(d.queries, 10);
          for (const options of [{ device }, { device, deviceTileRows: tileRows }, {}] as const) {
            const loaded = await loadIndex(path, options);
            try {
              expect(loaded.stats().deviceKind).toBe(options.device ?? 'cpu');
              expectSameAsCpu(await loaded.search(d.queries, 10), want, `loaded with ${JSON.stringify(options)}`);
            } finally {
              loaded.close();
            }
          }
        } finally {
          cpu.close();
          dev.close();
          rmSync(dir, { recursive: true, force: true });
        }
      });

      for (const tile of [undefined, tileRows]) {
        const how = tile ? `in tiles of ${tile} rows` : 'resident';
        it(`honours filters and tombstones, and follows adds and compaction (${how})`, async () => {
          const d = data!;
          const labels = labelRange(d.nBase, 1000);
          const cpu = createIndex({ dim: d.dim, metric: d.metric, kind: 'flat' });
          const dev = createIndex({ dim: d.dim, metric: d.metric, kind: 'flat', device, deviceTileRows: tile });
          try {
            const half = Math.floor(d.nBase / 2);
            for (const index of [cpu, dev]) await index.add(labels.subarray(0, half), d.base.subarray(0, half * d.dim));
            expectSameAsCpu(await dev.search(d.queries, 10), await cpu.search(d.queries, 10), 'first half');
            const before = dev.stats().deviceMemoryBytes;
            for (const index of [cpu, dev]) await index.add(labels.subarray(half), d.base.subarray(half * d.dim));
            // Resident rows grow with the base (the first allocation holds at least 1024 rows).
            if (!tile && d.nBase > 2048) expect(dev.stats().deviceMemoryBytes).toBeGreaterThan(before);
            expectSameAsCpu(await dev.search(d.queries, 10), await cpu.search(d.queries, 10), 'after the second add');

            // A seeded 30% allow-list, as a bitset and as a sorted list; a third of the rows removed.
            const rng = new Prng(11);
            const allowed = Array.from(labels).filter(() => rng.nextFloat() < 0.3);
            const sorted = Uint32Array.from(allowed);
            const bits = new Uint8Array((labels[labels.length - 1]! >> 3) + 1);
            for (const l of allowed) bits[l >> 3]! |= 1 << (l & 7);
            const removed = Uint32Array.from(Array.from(labels).filter((_, i) => i % 3 === 0));
            for (const index of [cpu, dev]) expect(await index.remove(removed)).toBe(removed.length);
            for (const filter of [bits, sorted]) {
              for (const k of [1, 10, 100]) {
                const what = `${filter.constructor.name} filter, k ${k}`;
                expectSameAsCpu(await dev.search(d.queries, k, { filter }), await cpu.search(d.queries, k, { filter }), what);
              }
            }
            expectSameAsCpu(await dev.search(d.queries, 100), await cpu.search(d.queries, 100), 'tombstones only');
            // A filter that allows nothing leaves every slot empty.
            const none = await dev.search(d.queries, 5, { filter: new Uint8Array(bits.length) });
            expect(Array.from(none.labels).every((l) => l === 0xffffffff)).toBe(true);

            for (const index of [cpu, dev]) await index.compact();
            expectSameAsCpu(await dev.search(d.queries, 100), await cpu.search(d.queries, 100), 'after compaction');
            // Removed labels can come back (as new rows at the end).
            for (const index of [cpu, dev]) await index.add(removed, d.base.subarray(0, removed.length * d.dim));
            expectSameAsCpu(await dev.search(d.queries, 100), await cpu.search(d.queries, 100), 'after re-adding');
            expectSameAsCpu(await dev.search(d.queries, 10, { exact: true }), await cpu.search(d.queries, 10, { exact: true }), 'exact: true');
          } finally {
            cpu.close();
            dev.close();
          }
        });
      }
    });
  }
}

describe.skipIf(DEVICE_TARGETS.length === 0)(DEVICE_TARGETS.length ? 'device exact search' : `device exact search (${NO_DEVICE})`, () => {
  suite('bigann10k', loadBigann10k(), 1500);
  suite('bge-m3 sentence', loadBgeM3Sentence(), 150);
});
