/*
 * HNSW graphs built on a device (exact kNN lists on the device, the
 * neighbour-selection heuristic and reverse links on the host) search as well
 * as CPU-built ones: recall@10 within 0.01 at equal efSearch, on bigann10k and
 * bge-m3. The result is an ordinary HNSW index: saved, loaded and compacted as usual.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBgeM3Sentence, loadBigann10k, recallAtK, type Dataset } from '@ragwire/datasets';
import { NO_LABEL, createIndex, loadIndex, type Device, type Index } from '@ragwire/native';
import { DEVICE_TARGETS, NO_DEVICE } from './device-support';
import { NO_DATA, labelRange } from './support';

const EFS = [10, 16, 32, 64];
const K = 10;
// PoCL on two shared cores builds bigann10k's graph on the "device" in about a minute.
const SLOW = 600_000;

async function build(d: Dataset, device: Device): Promise<Index> {
  const index = createIndex({ dim: d.dim, metric: d.metric, kind: 'hnsw', device, hnsw: { M: 16, efConstruction: 200, seed: 42 } });
  await index.add(labelRange(d.nBase), d.base);
  return index;
}

async function recalls(index: Index, d: Dataset): Promise<number[]> {
  const out: number[] = [];
  for (const efSearch of EFS) {
    const r = await index.search(d.queries, K, { efSearch });
    out.push(recallAtK(r.labels, d.groundTruth, d.nQueries, K, d.gtK));
  }
  return out;
}

function suite(name: string, data: Dataset | null): void {
  for (const device of DEVICE_TARGETS) {
    describe.skipIf(!data)(data ? `${device}: HNSW built on the device, ${name}` : `${device}: device-built HNSW on ${name} (${NO_DATA})`, () => {
      it(
        `recall@${K} within 0.01 of a CPU build at efSearch ${EFS.join('/')}`,
        async () => {
          const d = data!;
          const cpu = await build(d, 'cpu');
          const dev = await build(d, device);
          try {
            expect(dev.stats().deviceKind).toBe(device);
            expect(dev.stats().maxLevel).toBe(cpu.stats().maxLevel); // same seeded levels
            const [rc, rd] = [await recalls(cpu, d), await recalls(dev, d)];
            for (let i = 0; i < EFS.length; i++) {
              expect(rd[i]!, `efSearch ${EFS[i]}: device ${rd[i]} vs cpu ${rc[i]}`).toBeGreaterThanOrEqual(rc[i]! - 0.01);
            }
            expect(rd[EFS.length - 1]!).toBeGreaterThanOrEqual(0.95);
          } finally {
            cpu.close();
            dev.close();
          }
        },
        SLOW,
      );

      it(
        'is an ordinary HNSW index: saved and loaded, compacted (rebuilt on the device), extended on the CPU',
        async () => {
          const d = data!;
          const dir = mkdtempSync(join(tmpdir(), 'ragwire-device-graph-'));
          const dev = await build(d, device);
          try {
            const before = await dev.search(d.queries, K, { efSearch: 64 });
            const path = join(dir, 'graph.rwi');
            await dev.save(path);
            const loaded = await loadIndex(path);
            try {
              const again = await loaded.search(d.queries, K, { efSearch: 64 });
              expect(Array.from(again.labels)).toEqual(Array.from(before.labels));
              expect(loaded.stats().kind).toBe('hnsw');
            } finally {
              loaded.close();
            }
            // Remove a quarter, compact (the graph is rebuilt from empty, on the device), add them back (CPU inserts).
            const removed = labelRange(Math.floor(d.nBase / 4));
            await dev.remove(removed);
            await dev.compact();
            const after = await dev.search(d.queries, K, { efSearch: 64 });
            const gone = new Set(removed);
            expect(Array.from(after.labels).filter((l) => l !== NO_LABEL && gone.has(l))).toEqual([]);
            await dev.add(removed, d.base.subarray(0, removed.length * d.dim));
            expect(dev.stats().count).toBe(d.nBase);
            const [r64] = (await recalls(dev, d)).slice(-1);
            expect(r64!).toBeGreaterThanOrEqual(0.95);
          } finally {
            dev.close();
            rmSync(dir, { recursive: true, force: true });
          }
        },
        SLOW,
      );
    });
  }
}

describe.skipIf(DEVICE_TARGETS.length === 0)(DEVICE_TARGETS.length ? 'device graph builds' : `device graph builds (${NO_DEVICE})`, () => {
  suite('bigann10k', loadBigann10k());
  suite('bge-m3 sentence', loadBgeM3Sentence());
});
