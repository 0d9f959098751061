// A store opened with a device: flat collections search on it, hnsw collections build on it, and the
// answers equal a CPU store's, before and after a reopen from the snapshot.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gaussianMixture } from '@ragwire/datasets';
import { devices, type Device } from '@ragwire/native';
import { openStore, type Store } from './index';

const DIM = 24;
const TARGETS: Device[] = (['opencl', 'cuda'] as const).filter((k) => devices().some((d) => d.kind === k));

async function filled(path: string, device: Device, kind: 'flat' | 'hnsw'): Promise<Store> {
  const store = await openStore({ path, device, snapshotEveryOps: 500 });
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
});
