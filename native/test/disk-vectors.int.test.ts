/*
 * Vectors on disk: the f32 rows in a mapped file, the codes and graph in memory. On the data sets'
 * own ground truth each disk-resident configuration stays within 0.01 recall@10 of memory-resident
 * f32 (flat and bq: returns exactly what it returns in memory), every score is its row's exact f32
 * score; its
 * snapshots round-trip and refuse a vector file that changed; bad options and I/O failures are
 * typed errors.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBgeM3Sentence, loadBigann10k, recallAtK, similarity, type Dataset } from '@ragwire/datasets';
import { createIndex, loadIndex, type Index, type IndexOptions } from '@ragwire/native';
import { CorruptSnapshotError, InvalidArgumentError, IoError } from '@ragwire/protocol';
import { NO_DATA, expectRagwireError, expectRagwireErrorSync, labelRange, scoreTolerance } from './support';

const HNSW = { M: 16, efConstruction: 200, efSearch: 64 } as const;
const K = 10;
const dir = mkdtempSync(join(tmpdir(), 'ragwire-disk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fresh = (name: string) => join(dir, `${files++}-${name}`);

type Layout = Omit<IndexOptions, 'dim' | 'metric' | 'vectors' | 'vectorsPath'>;
/** Every configuration that places its vectors on disk, with its memory-resident reference. */
const LAYOUTS: Record<string, { layout: Layout; floor: 'hnsw' | 'flat' | 'same' }> = {
  'hnsw sq8': { layout: { kind: 'hnsw', storage: 'sq8', hnsw: HNSW }, floor: 'hnsw' },
  'hnsw f16': { layout: { kind: 'hnsw', storage: 'f16', hnsw: HNSW }, floor: 'hnsw' },
  'flat sq8': { layout: { kind: 'flat', storage: 'sq8' }, floor: 'flat' },
  // bq's recall is its own (it walks binary codes): on disk it must equal bq in memory.
  bq: { layout: { kind: 'bq' }, floor: 'same' },
};

async function built(d: Dataset, options: Omit<IndexOptions, 'dim' | 'metric'>): Promise<Index> {
  const index = createIndex({ dim: d.dim, metric: d.metric, ...options });
  await index.add(labelRange(d.nBase), d.base);
  return index;
}

function suite(name: string, data: Dataset | null): void {
  describe.skipIf(!data)(data ? `vectors on disk, ${name}` : `vectors on disk, ${name} (${NO_DATA})`, () => {
    const recall = (labels: Uint32Array) => recallAtK(labels, data!.groundTruth, data!.nQueries, K, data!.gtK);
    let hnswF32 = 0;
    let flatF32 = 0;
    beforeAll(async () => {
      for (const [kind, set] of [
        ['hnsw', (r: number) => (hnswF32 = r)],
        ['flat', (r: number) => (flatF32 = r)],
      ] as const) {
        const index = await built(data!, { kind, storage: 'f32', hnsw: HNSW });
        set(recall((await index.search(data!.queries, K)).labels));
        index.close();
      }
    });

    for (const [config, { layout, floor }] of Object.entries(LAYOUTS)) {
      it(`${config}: the same results as in memory, recall within 0.01 of f32, rows counted as mapped`, async () => {
        const d = data!;
        const memory = await built(d, layout);
        const disk = await built(d, { ...layout, vectors: 'disk', vectorsPath: fresh('rows.f32') });
        try {
          const inMemory = await memory.search(d.queries, K);
          const onDisk = await disk.search(d.queries, K);
          const r = recall(onDisk.labels);
          if (floor === 'hnsw') {
            // A parallel build's graph depends on thread timing: two builds agree in recall, not label for label.
            expect(r).toBeGreaterThanOrEqual(hnswF32 - 0.01);
            expect(r).toBeGreaterThanOrEqual(recall(inMemory.labels) - 0.01);
          } else {
            expect(onDisk.labels).toEqual(inMemory.labels);
            expect(onDisk.scores).toEqual(inMemory.scores);
          }
          if (floor === 'flat') expect(r).toBeGreaterThanOrEqual(flatF32 - 0.01);
          // Every score is the exact f32 score of its row: the rerank read the right rows from the file.
          for (let i = 0; i < onDisk.labels.length; i++) {
            const want = similarity(d.metric, d.queries, Math.floor(i / K), d.base, onDisk.labels[i]!, d.dim);
            expect(Math.abs(onDisk.scores[i]! - want)).toBeLessThanOrEqual(scoreTolerance(want));
          }
          const rowBytes = d.nBase * d.dim * 4;
          const s = disk.stats();
          expect(s.vectors).toBe('disk');
          expect(s.mappedBytes).toBe(rowBytes);
          expect(memory.stats().mappedBytes).toBe(0);
          expect(memory.stats().memoryBytes - s.memoryBytes).toBeGreaterThanOrEqual(rowBytes);
        } finally {
          memory.close();
          disk.close();
        }
      });
    }
  });
}

suite('bigann10k', loadBigann10k());
suite('bge-m3 sentence', loadBgeM3Sentence());

describe('vectors on disk: snapshots', () => {
  const dim = 32;
  const n = 2000;
  const rows = new Float32Array(n * dim).map((_, i) => Math.sin(i * 0.37) + ((i * 7919) % 13) / 13);
  const queries = rows.subarray(0, 20 * dim);

  async function saved(kind: 'hnsw' | 'flat' | 'bq' = 'hnsw') {
    const vectorsPath = fresh('rows.f32');
    const snapshot = fresh('index.snap');
    const index = createIndex({ dim, metric: 'l2', kind, storage: kind === 'bq' ? 'f32' : 'sq8', vectors: 'disk', vectorsPath });
    await index.add(labelRange(n), rows);
    const before = await index.search(queries, K);
    await index.save(snapshot, { userData: new Uint8Array([7]) });
    index.close();
    return { vectorsPath, snapshot, before };
  }

  for (const kind of ['hnsw', 'flat', 'bq'] as const) {
    it(`${kind}: a saved index loads with its vector file and answers as before`, async () => {
      const { snapshot, before, vectorsPath } = await saved(kind);
      const loaded = await loadIndex(snapshot);
      try {
        expect(loaded.userData).toEqual(new Uint8Array([7]));
        expect(loaded.stats()).toMatchObject({ vectors: 'disk', vectorsPath, mappedBytes: n * dim * 4, count: n });
        const after = await loaded.search(queries, K);
        expect(after.labels).toEqual(before.labels);
        expect(after.scores).toEqual(before.scores);
      } finally {
        loaded.close();
      }
    });
  }

  it('a loaded index keeps adding; rows written after the snapshot are dropped on the next load', async () => {
    const { snapshot } = await saved();
    const loaded = await loadIndex(snapshot);
    await loaded.add(
      labelRange(10, n),
      rows.subarray(0, 10 * dim).map((x) => x + 0.5),
    );
    expect(loaded.stats().mappedBytes).toBe((n + 10) * dim * 4);
    loaded.close();
    const again = await loadIndex(snapshot);
    try {
      expect(again.stats()).toMatchObject({ count: n, mappedBytes: n * dim * 4 });
      await again.add(labelRange(5, n), rows.subarray(0, 5 * dim));
      expect(again.size).toBe(n + 5);
    } finally {
      again.close();
    }
  });

  it('a moved vector file is found through vectorsPath', async () => {
    const { snapshot, vectorsPath, before } = await saved();
    const moved = fresh('moved.f32');
    renameSync(vectorsPath, moved);
    await expectRagwireError(() => loadIndex(snapshot), IoError, 'RAGWIRE_ERR_IO');
    const loaded = await loadIndex(snapshot, { vectorsPath: moved });
    try {
      expect((await loaded.search(queries, K)).labels).toEqual(before.labels);
    } finally {
      loaded.close();
    }
  });

  it('refuses a vector file with a flipped byte, or shorter than the snapshot', async () => {
    const { snapshot, vectorsPath } = await saved();
    const bytes = readFileSync(vectorsPath);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length >> 1]! ^= 0x10;
    writeFileSync(vectorsPath, flipped);
    await expectRagwireError(() => loadIndex(snapshot), CorruptSnapshotError, 'RAGWIRE_ERR_CORRUPT_SNAPSHOT');
    writeFileSync(vectorsPath, bytes);
    truncateSync(vectorsPath, bytes.length - dim * 4);
    await expectRagwireError(() => loadIndex(snapshot), CorruptSnapshotError, 'RAGWIRE_ERR_CORRUPT_SNAPSHOT');
    writeFileSync(vectorsPath, bytes);
    (await loadIndex(snapshot)).close();
  });

  it('refuses a snapshot with a flipped byte', async () => {
    const { snapshot } = await saved();
    const bytes = readFileSync(snapshot);
    bytes[bytes.length - 3]! ^= 0x01;
    writeFileSync(snapshot, bytes);
    await expectRagwireError(() => loadIndex(snapshot), CorruptSnapshotError, 'RAGWIRE_ERR_CORRUPT_SNAPSHOT');
  });

  it('a vector file is held by one open index at a time', async () => {
    const { snapshot, vectorsPath } = await saved();
    const first = await loadIndex(snapshot);
    try {
      await expectRagwireError(() => loadIndex(snapshot), IoError, 'RAGWIRE_ERR_IO');
      expectRagwireErrorSync(() => createIndex({ dim, metric: 'l2', storage: 'sq8', vectors: 'disk', vectorsPath }), IoError, 'RAGWIRE_ERR_IO');
      expect(first.size).toBe(n);
    } finally {
      first.close();
    }
  });

  it('compaction on disk keeps searching right and a new snapshot round-trips', async () => {
    const { snapshot } = await saved();
    const index = await loadIndex(snapshot);
    await index.remove(labelRange(n / 2));
    await index.compact();
    const r = await index.search(rows.subarray((n - 1) * dim, n * dim), 1);
    expect(r.labels[0]).toBe(n - 1);
    const again = fresh('compacted.snap');
    await index.save(again);
    index.close();
    const loaded = await loadIndex(again);
    try {
      expect(loaded.stats()).toMatchObject({ count: n / 2, mappedBytes: (n / 2) * dim * 4 });
      // The first snapshot named the rows before compaction rewrote them: refused, not misread.
    } finally {
      loaded.close();
    }
    await expectRagwireError(() => loadIndex(snapshot), CorruptSnapshotError, 'RAGWIRE_ERR_CORRUPT_SNAPSHOT');
  });
});

describe('vectors on disk: bad options', () => {
  const base = { dim: 8, metric: 'l2' } as const;
  it('refuses layouts with nothing to walk in memory, a missing path, or a path on a device', () => {
    expectRagwireErrorSync(() => createIndex({ ...base, vectors: 'disk', vectorsPath: fresh('a') }), InvalidArgumentError, 'RAGWIRE_ERR_INVALID_ARGUMENT');
    expectRagwireErrorSync(
      () => createIndex({ ...base, kind: 'flat', vectors: 'disk', vectorsPath: fresh('a') }),
      InvalidArgumentError,
      'RAGWIRE_ERR_INVALID_ARGUMENT',
    );
    expectRagwireErrorSync(() => createIndex({ ...base, storage: 'sq8', vectors: 'disk' }), InvalidArgumentError, 'RAGWIRE_ERR_INVALID_ARGUMENT');
    expectRagwireErrorSync(() => createIndex({ ...base, storage: 'sq8', vectorsPath: fresh('a') }), InvalidArgumentError, 'RAGWIRE_ERR_INVALID_ARGUMENT');
    expectRagwireErrorSync(
      () => createIndex({ ...base, storage: 'sq8', vectors: 'ssd' as 'disk', vectorsPath: fresh('a') }),
      InvalidArgumentError,
      'RAGWIRE_ERR_INVALID_ARGUMENT',
    );
    expectRagwireErrorSync(
      () => createIndex({ ...base, storage: 'sq8', device: 'opencl', vectors: 'disk', vectorsPath: fresh('a') }),
      InvalidArgumentError,
      'RAGWIRE_ERR_INVALID_ARGUMENT',
    );
  });

  it('an unwritable vector file is an IoError', () => {
    expectRagwireErrorSync(
      () => createIndex({ ...base, storage: 'sq8', vectors: 'disk', vectorsPath: join(dir, 'no-such-dir', 'rows.f32') }),
      IoError,
      'RAGWIRE_ERR_IO',
    );
  });

  it('vectorsPath on loading a snapshot that holds its vectors is refused', async () => {
    const index = createIndex({ ...base, storage: 'sq8' });
    await index.add(labelRange(3), new Float32Array(24).fill(1));
    const snapshot = fresh('memory.snap');
    await index.save(snapshot);
    index.close();
    await expectRagwireError(() => loadIndex(snapshot, { vectorsPath: fresh('x') }), InvalidArgumentError, 'RAGWIRE_ERR_INVALID_ARGUMENT');
  });
});
