// A store opened with a device: flat collections search on it, hnsw collections build on it, and the
// answers equal a CPU store's, before and after a reopen from the snapshot. Small batches run on the
// CPU path of the same index (deviceMinWork), with the same answers; stats say which side ran.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gaussianMixture } from '@ragwire/datasets';
import { devices, type Device } from '@ragwire/native';
import { openStore, type Store } from './index';

const DIM = 24;
const TARGETS: Device[] = (['opencl', 'cuda'] as const).filter((k) => devices().some((d) => d.kind === k));

async function filled(path: string, device: Device, kind: 'flat' | 'hnsw', deviceMinWork = 0): Promise<Store> {
  const store = await openStore({ path, device, snapshotEveryOps: 500, deviceMinWork });
  if (!store.describe().some((c) => c.name === 'c')) {
    await store.createCollection({ name: 'c', dim: DIM, metric: 'l2', kind });
    const d = gaussianMixture({ n: 1500, nQueries: 0, dim: DIM, clusters: 10, spread: 1, seed: 5 });
    const ids = Array.from({ length: d.nBase }, (_, i) => `doc-${i}`);
    await store.collection('c').upsert({ ids, vectors: d.base, payloads: ids.map((id) => ({ text: id, metadata: {} })) });
  }
  return store;
}

describe.skipIf(TARGETS.length === 0)(TARGETS.length ? 'store on a device' : 'store on a device (skipped: no OpenCL or CUDA device)', () => {
  const queries = gaussianMixture({ n: 1, nQueries: 30, dim: DIM, clusters: 10, spread: 1, seed: 5 }).queries;
  for (const device of TARGETS) {
    for (const kind of ['flat', 'hnsw'] as const) {
      it(`${device}, ${kind}: answers as a CPU store does, and again after a reopen`, async () => {
        const dirs = [mkdtempSync(join(tmpdir(), 'ragwire-store-dev-')), mkdtempSync(join(tmpdir(), 'ragwire-store-cpu-'))];
        try {
          const cpu = await filled(dirs[1]!, 'cpu', kind);
          const want = await cpu.collection('c').query({ vectors: queries, k: 10 });
          await cpu.close();
          for (let round = 0; round < 2; round++) {
            const store = await filled(dirs[0]!, device, kind);
            try {
              const c = store.collection('c');
              expect(c.index.stats().deviceKind, `round ${round}`).toBe(device);
              const got = await c.query({ vectors: queries, k: 10 });
              if (kind === 'flat') expect(got.ids).toEqual(want.ids);
              else expect(got.ids.filter((id, i) => id === want.ids[i]).length / want.ids.length).toBeGreaterThan(0.9);
            } finally {
              await store.close();
            }
          }
        } finally {
          for (const d of dirs) rmSync(d, { recursive: true, force: true });
        }
      });
    }
  }

  for (const device of TARGETS) {
    it(`${device}, flat: single queries run on the CPU path, big batches on the device, with the same answers`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ragwire-store-placement-'));
      const batch = 30;
      try {
        // Work of a batch is queries x 1,500 rows x DIM: up to 8 queries stay on the CPU.
        const store = await filled(dir, device, 'flat', 8 * 1500 * DIM);
        try {
          const c = store.collection('c');
          const onDevice = await c.query({ vectors: queries, k: 10 });
          expect(c.stats()).toMatchObject({ 'device.kind': device, 'device.searches': 1, 'cpu.searches': 0 });
          expect(c.stats().device).toBe(c.index.stats().device);
          expect(c.stats()['device.bytes']).toBeGreaterThan(0);
          let at = 0;
          for (let q = 0; q < batch; q++) {
            const one = await c.query({ vectors: queries.subarray(q * DIM, (q + 1) * DIM), k: 10 });
            const n = onDevice.counts[q]!;
            expect(one.counts[0], `query ${q}`).toBe(n);
            expect(one.ids, `query ${q}`).toEqual(onDevice.ids.slice(at, at + n));
            for (let j = 0; j < n; j++) {
              const a = one.scores[j]!,
                b = onDevice.scores[at + j]!;
              expect(Math.abs(a - b), `query ${q} hit ${j}`).toBeLessThanOrEqual(1e-4 * Math.max(Math.abs(a), Math.abs(b), 1e-12));
            }
            at += n;
          }
          expect(c.stats()).toMatchObject({ 'device.searches': 1, 'cpu.searches': batch });
        } finally {
          await store.close();
        }
        // The default threshold keeps a single query on the CPU; an hnsw collection searches on the CPU always.
        const reopened = await openStore({ path: dir, device });
        try {
          await reopened.collection('c').query({ vectors: queries.subarray(0, DIM), k: 10 });
          expect(reopened.stats('c')).toMatchObject({ 'device.kind': device, 'device.searches': 0, 'cpu.searches': 1 });
        } finally {
          await reopened.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
