/*
 * Snapshots: save/load gives identical results for every kind and storage,
 * keeps removals and userData, stays usable, and a truncated, bit-flipped or
 * foreign file is refused with RAGWIRE_ERR_CORRUPT_SNAPSHOT.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng, gaussianMixture } from '@ragwire/datasets';
import { CorruptSnapshotError, IoError } from '@ragwire/protocol';
import { NO_LABEL, createIndex, loadIndex, type IndexOptions } from '@ragwire/native';
import { expectRagwireError, labelRange } from './support';

const DIM = 24;
const N = 2000;
const K = 10;
const data = gaussianMixture({ n: N + 50, nQueries: 40, dim: DIM, clusters: 30, seed: 21 });
const base = data.base.subarray(0, N * DIM);
const extra = data.base.subarray(N * DIM);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ragwire-snapshot-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const CONFIGS: Omit<IndexOptions, 'dim'>[] = [
  { metric: 'l2', kind: 'flat', storage: 'f32' },
  { metric: 'l1', kind: 'flat', storage: 'sq8' },
  { metric: 'cosine', kind: 'hnsw', storage: 'f32', hnsw: { M: 8, efConstruction: 64, efSearch: 40 } },
  { metric: 'ip', kind: 'hnsw', storage: 'f16', hnsw: { M: 12, efConstruction: 80, efSearch: 50, seed: 7 } },
  { metric: 'l2', kind: 'hnsw', storage: 'sq8' },
  { metric: 'ip', kind: 'hnsw', storage: 'sq8', hnsw: { M: 8, inlineCodes: true } },
  { metric: 'cosine', kind: 'bq', storage: 'f32', bq: { rerankFactor: 8 } },
];

describe('save and load', () => {
  for (const [i, config] of CONFIGS.entries()) {
    it(`${config.kind}/${config.storage}/${config.metric}: identical results, stats, removals and userData`, async () => {
      const path = join(dir, `index-${i}.rwx`);
      const index = createIndex({ dim: DIM, ...config });
      const removed = Uint32Array.from({ length: 100 }, (_, j) => 10 + 17 * j);
      const userData = Uint8Array.from([1, 2, 3, 250, 0, 9]);
      await index.add(labelRange(N, 10), base);
      expect(await index.remove(removed)).toBe(100);
      await index.save(path, { userData });
      const want = await index.search(data.queries, K);
      const wantStats = index.stats();
      index.close();

      const again = await loadIndex(path);
      try {
        expect(again.userData).toEqual(userData);
        const stats = again.stats();
        expect(stats).toMatchObject({
          dim: wantStats.dim,
          metric: wantStats.metric,
          kind: wantStats.kind,
          storage: wantStats.storage,
          count: wantStats.count,
        });
        if (config.kind === 'hnsw') {
          expect(stats.maxLevel).toBe(wantStats.maxLevel);
          expect(stats.inlineCodes).toBe(config.hnsw?.inlineCodes === true);
        }
        const got = await again.search(data.queries, K);
        expect(got.labels).toEqual(want.labels);
        expect(got.scores).toEqual(want.scores);
        expect(again.searchSync(data.queries, K).labels).toEqual(want.labels);
        const removedSet = new Set(removed);
        expect(Array.from(got.labels).filter((l) => removedSet.has(l))).toEqual([]);

        // A loaded index is a live index: it takes adds and removes.
        const newLabels = labelRange(50, 1_000_000);
        await again.add(newLabels, extra);
        const onlyNew = await again.search(data.queries, 5, { filter: newLabels });
        expect(Array.from(onlyNew.labels).every((l) => l >= 1_000_000 && l < 1_000_050)).toBe(true);
        if (config.metric !== 'ip') {
          // Each new vector is its own nearest neighbour (not so under ip, which favours long vectors).
          const found = await again.search(extra.subarray(0, 5 * DIM), 1, { efSearch: 64 });
          expect(Array.from(found.labels)).toEqual([1_000_000, 1_000_001, 1_000_002, 1_000_003, 1_000_004]);
        }
        expect(await again.remove(newLabels)).toBe(50);
        expect(again.stats().count).toBe(wantStats.count);
      } finally {
        again.close();
      }
    });
  }

  it('userData is null when none was saved; saving again overwrites the file', async () => {
    const path = join(dir, 'plain.rwx');
    const index = createIndex({ dim: DIM, metric: 'l2', kind: 'flat' });
    await index.add(labelRange(10), base.subarray(0, 10 * DIM));
    await index.save(path);
    await index.add(labelRange(10, 10), base.subarray(10 * DIM, 20 * DIM));
    await index.save(path);
    index.close();
    const again = await loadIndex(path);
    try {
      expect(again.userData).toBeNull();
      expect(again.stats().count).toBe(20);
    } finally {
      again.close();
    }
  });

  it('a loaded index can be saved over its own file and keeps answering', async () => {
    const path = join(dir, 'self.rwx');
    const index = createIndex({ dim: DIM, metric: 'l2', kind: 'hnsw', hnsw: { M: 8, efConstruction: 40 } });
    await index.add(labelRange(N), base);
    await index.save(path);
    index.close();
    const loaded = await loadIndex(path);
    try {
      await loaded.add(labelRange(50, 1_000_000), extra);
      const want = await loaded.search(data.queries, K);
      // The file being replaced is the one `loaded` maps.
      await loaded.save(path);
      expect((await loaded.search(data.queries, K)).labels).toEqual(want.labels);
      const again = await loadIndex(path);
      expect(again.stats().count).toBe(N + 50);
      expect((await again.search(data.queries, K)).labels).toEqual(want.labels);
      again.close();
    } finally {
      loaded.close();
    }
  });

  it('an empty index saves and loads', async () => {
    const path = join(dir, 'empty.rwx');
    const index = createIndex({ dim: 3, metric: 'cosine', kind: 'hnsw' });
    await index.save(path);
    index.close();
    const again = await loadIndex(path);
    try {
      expect(again.stats()).toMatchObject({ dim: 3, count: 0, kind: 'hnsw', metric: 'cosine' });
      const r = await again.search(Float32Array.from([1, 0, 0]), 2);
      expect(Array.from(r.labels)).toEqual([NO_LABEL, NO_LABEL]);
    } finally {
      again.close();
    }
  });
});

describe('damaged snapshots are refused', () => {
  let path: string;
  let bytes: Buffer;

  beforeAll(async () => {
    path = join(dir, 'good.rwx');
    const index = createIndex({ dim: DIM, metric: 'l2', kind: 'hnsw', hnsw: { M: 8, efConstruction: 40 } });
    await index.add(labelRange(500), base.subarray(0, 500 * DIM));
    await index.remove(Uint32Array.from([3, 4]));
    await index.save(path, { userData: Uint8Array.from([42]) });
    index.close();
    bytes = readFileSync(path);
  });

  async function expectCorrupt(content: Uint8Array, what: string): Promise<void> {
    const bad = join(dir, `bad-${what}.rwx`);
    writeFileSync(bad, content);
    try {
      await expectRagwireError(() => loadIndex(bad), CorruptSnapshotError, 'RAGWIRE_ERR_CORRUPT_SNAPSHOT');
    } catch (e) {
      throw new Error(`${what} (file of ${bytes.length} bytes): ${(e as Error).message}`);
    }
  }

  it('the undamaged file loads', async () => {
    const again = await loadIndex(path);
    expect(again.stats().count).toBe(498);
    again.close();
  });

  it('truncated anywhere', async () => {
    for (const length of [0, 1, 7, 16, 64, bytes.length >> 1, bytes.length - 4, bytes.length - 1]) {
      await expectCorrupt(bytes.subarray(0, length), `truncated-${length}`);
    }
  });

  it('one bit flipped anywhere', async () => {
    const rng = new Prng(77);
    const offsets = [0, 1, 4, 8, 12, 20, 32, 48, bytes.length >> 1, bytes.length - 8, bytes.length - 1];
    for (let i = 0; i < 12; i++) offsets.push(rng.nextInt(bytes.length));
    for (const offset of offsets) {
      const flipped = Buffer.from(bytes);
      flipped[offset]! ^= 1 << (offset % 8);
      await expectCorrupt(flipped, `flip-${offset}`);
    }
  });

  it('not a snapshot at all', async () => {
    await expectCorrupt(Buffer.from('{"dim": 24, "metric": "l2"}\n'), 'json');
    const noise = new Uint8Array(4096);
    const rng = new Prng(78);
    for (let i = 0; i < noise.length; i++) noise[i] = rng.nextU32() & 255;
    await expectCorrupt(noise, 'noise');
  });

  it('a missing file is an IoError', async () => {
    await expectRagwireError(() => loadIndex(join(dir, 'does-not-exist.rwx')), IoError, 'RAGWIRE_ERR_IO');
  });

  it('saving into a missing directory is an IoError', async () => {
    const index = createIndex({ dim: 2, metric: 'l2', kind: 'flat' });
    try {
      await expectRagwireError(() => index.save(join(dir, 'no', 'such', 'dir', 'x.rwx')), IoError, 'RAGWIRE_ERR_IO');
    } finally {
      index.close();
    }
  });
});
