// StoreOptions.vectors 'disk': collections that walk codes keep their f32 rows in a mapped file
// beside their snapshot, reopen from it without a rebuild, and are rebuilt (not misread) when the
// store's placement changes; dropping a collection removes the file.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gaussianMixture } from '@ragwire/datasets';
import { openStore, type StoreOptions } from './index';
import type { RebuildEvent } from './store-options';

const DIM = 16;
const dir = mkdtempSync(join(tmpdir(), 'ragwire-store-disk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('store vectors on disk', () => {
  it('places sq8 and bq collections on disk, reopens them from their snapshot, rebuilds on a placement change', async () => {
    const path = join(dir, 'store');
    const rebuilt: RebuildEvent[] = [];
    const options = (vectors: 'memory' | 'disk'): StoreOptions => ({ path, vectors, exactScanBytes: 0, onRebuild: (e) => rebuilt.push(e) });
    const d = gaussianMixture({ n: 400, nQueries: 5, dim: DIM, clusters: 8, spread: 1, seed: 3 });
    const ids = Array.from({ length: 400 }, (_, i) => `doc-${i}`);
    const query = { vectors: d.queries.subarray(0, DIM), k: 10 };
    const snapshots = join(path, 'snapshots');
    const vectorFiles = () => readdirSync(snapshots).filter((f) => f.endsWith('.vectors'));

    let store = await openStore(options('disk'));
    for (const [name, layout] of [
      ['sq8', { storage: 'sq8' }],
      ['flat-sq8', { kind: 'flat', storage: 'sq8' }],
      ['bq', { kind: 'bq' }],
      ['plain', {}],
    ] as const) {
      await store.createCollection({ name, dim: DIM, metric: 'l2', ...layout });
      await store.collection(name).upsert({ ids, vectors: d.base });
    }
    const before = await store.collection('sq8').query(query);
    const flatBefore = await store.collection('flat-sq8').query(query);
    const bqBefore = await store.collection('bq').query(query);
    await store.close();
    // One vector file per collection that walks codes; the f32 hnsw collection keeps its rows in memory.
    expect(vectorFiles()).toHaveLength(3);

    store = await openStore(options('disk'));
    expect(rebuilt).toEqual([]);
    // Loaded from their snapshots: the same graph, the same answers.
    expect((await store.collection('sq8').query(query)).ids).toEqual(before.ids);
    expect((await store.collection('flat-sq8').query(query)).ids).toEqual(flatBefore.ids);
    expect((await store.collection('bq').query(query)).ids).toEqual(bqBefore.ids);
    await store.close();

    store = await openStore(options('memory'));
    expect(rebuilt.map((e) => [e.collection, e.reason]).sort()).toEqual([
      ['bq', 'stale'],
      ['flat-sq8', 'stale'],
      ['sq8', 'stale'],
    ]);
    // Rebuilt from LMDB: flat and bq answer exactly as before (a rebuilt graph may differ in ties).
    expect((await store.collection('flat-sq8').query(query)).ids).toEqual(flatBefore.ids);
    expect((await store.collection('bq').query(query)).ids).toEqual(bqBefore.ids);
    expect(store.collection('sq8').info().count).toBe(400);
    await store.close();

    rebuilt.length = 0;
    store = await openStore(options('disk'));
    expect(rebuilt.map((e) => e.reason)).toEqual(['stale', 'stale', 'stale']);
    expect((await store.collection('flat-sq8').query(query)).ids).toEqual(flatBefore.ids);
    for (const name of ['sq8', 'flat-sq8', 'bq']) await store.dropCollection(name);
    expect(vectorFiles()).toEqual([]);
    expect(existsSync(snapshots)).toBe(true);
    await store.close();
  });
});
