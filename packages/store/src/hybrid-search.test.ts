// Text, sparse and hybrid queries on a real store (LMDB in a temp dir): fusion, filters, deletes,
// recovery of the derived text index on reopen, typed errors.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fuseRanked, resolveFusion, type SparseVector } from '@ragwire/protocol';
import { openStore, type Store } from './index';

const DIM = 4;
let dir: string;
let store: Store;

const TEXTS = [
  'Vitamin B12 deficiency raises blood homocysteine levels.',
  'Homocysteine is an amino acid found in the blood.',
  'Folate and vitamin B6 lower homocysteine.',
  'Running improves cardiovascular health in adults.',
  'The cells were grown in a medium with glucose.',
  'Deficiencies of vitamins are common among the elderly.',
  'Blood pressure rises with age.',
  'Neural stem cells differentiate into neurons.',
];

function vec(i: number): number[] {
  return [Math.cos(i), Math.sin(i), Math.cos(2 * i), Math.sin(3 * i)];
}

function sparseOf(i: number): SparseVector {
  return { indices: Uint32Array.from([i % 3, 10 + (i % 4), 20 + i]), values: Float32Array.from([1 + i / 10, 0.5, 2 - i / 10]) };
}

async function fill(name = 'docs'): Promise<void> {
  await store.createCollection({ name, dim: DIM, metric: 'cosine', kind: 'flat', text: { language: 'en', k1: 0.9, b: 0.4 } });
  await store.collection(name).upsert({
    ids: TEXTS.map((_, i) => `d${i}`),
    vectors: Float32Array.from(TEXTS.flatMap((_, i) => vec(i))),
    payloads: TEXTS.map((text, i) => ({ text, metadata: { i, even: i % 2 === 0 } })),
    sparse: TEXTS.map((_, i) => (i === 7 ? null : sparseOf(i))),
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ragwire-hybrid-'));
  store = await openStore({ path: dir });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('text and hybrid queries', () => {
  it('answers a text query by BM25 with stems and stop words (language en)', async () => {
    await fill();
    const r = await store.collection('docs').query({ vectors: new Float32Array(0), k: 4, text: ['homocysteine in the blood'], options: { withPayload: true } });
    expect(r.ids.slice(0, 2).sort()).toEqual(['d0', 'd1']);
    expect(r.ids.slice(2).sort()).toEqual(['d2', 'd6']);
    expect([...r.scores]).toEqual([...r.scores].sort((a, b) => b - a));
    expect(r.payloads![0]!.text).toContain('omocysteine');
    // "deficiencies" and "deficiency" share a stem.
    const stem = await store.collection('docs').query({ vectors: new Float32Array(0), k: 5, text: ['deficiencies'] });
    expect(stem.ids.sort()).toEqual(['d0', 'd5']);
  });

  it('fuses the dense, text and sparse branches as fuseRanked does on the branch lists', async () => {
    await fill();
    const c = store.collection('docs');
    const vectors = Float32Array.from(vec(2.2));
    const text = ['vitamin homocysteine'];
    const sparse = [sparseOf(2)];
    const dense = await c.query({ vectors, k: 8 });
    const bm25 = await c.query({ vectors: new Float32Array(0), k: 8, text });
    const dot = await c.query({ vectors: new Float32Array(0), k: 8, sparse });
    for (const fusion of [{ method: 'rrf' }, { method: 'dbsf' }, { method: 'weighted', alpha: 0.3 }] as const) {
      const got = await c.query({ vectors, k: 4, text, sparse, fusion, prefetch: 8 });
      const want = fuseRanked(
        [
          { ids: dense.ids, scores: dense.scores, branch: 'dense' },
          { ids: bm25.ids, scores: bm25.scores, branch: 'text' },
          { ids: dot.ids, scores: dot.scores, branch: 'sparse' },
        ],
        resolveFusion(fusion),
        4,
      );
      expect(got.ids).toEqual(want.ids);
      expect([...got.scores]).toEqual([...want.scores]);
    }
  });

  it('applies a filter to every branch, and forgets deleted documents', async () => {
    await fill();
    const c = store.collection('docs');
    const r = await c.query({ vectors: Float32Array.from(vec(1)), k: 8, text: ['vitamin homocysteine blood'], filter: { must: [{ key: 'even', eq: true }] } });
    expect(r.ids.every((id) => Number(id.slice(1)) % 2 === 0)).toBe(true);
    await c.delete({ ids: ['d0', 'd1'] });
    const after = await c.query({ vectors: new Float32Array(0), k: 8, text: ['homocysteine'] });
    expect(after.ids).toEqual(['d2']);
    const sparse = await c.query({ vectors: new Float32Array(0), k: 8, sparse: [sparseOf(0)] });
    expect(sparse.ids).not.toContain('d0');
  });

  it('rebuilds the text and sparse indexes from LMDB on reopen, with the recorded text settings', async () => {
    await fill();
    const q = { vectors: Float32Array.from(vec(3)), k: 5, text: ['deficiencies of vitamins'], sparse: [sparseOf(4)] };
    const before = await store.collection('docs').query(q);
    await store.close();
    store = await openStore({ path: dir });
    const after = await store.collection('docs').query(q);
    expect(after.ids).toEqual(before.ids);
    expect([...after.scores]).toEqual([...before.scores]);
    expect(store.collection('docs').settings.text).toEqual({ language: 'en', k1: 0.9, b: 0.4 });
  });

  it('starts from a text index snapshot of any age, brought up to date from LMDB, in label order whatever the ids', async () => {
    await fill();
    const c = store.collection('docs');
    await c.snapshot();
    const textFile = readdirSync(join(dir, 'snapshots')).find((f) => f.endsWith('.text'))!;
    const old = join(dir, 'old.text');
    copyFileSync(join(dir, 'snapshots', textFile), old);
    // After the snapshot: replace d1 (a new label), delete d0, add ids that sort before the others.
    await c.upsert({
      ids: ['d1', 'a-late', '0-later'],
      vectors: Float32Array.from([...vec(1), ...vec(9), ...vec(10)]),
      payloads: [{ text: 'homocysteine homocysteine assay' }, { text: 'blood homocysteine in adults' }, { text: 'plasma homocysteine' }],
    });
    await c.delete({ ids: ['d0'] });
    const q = { vectors: new Float32Array(0), k: 8, text: ['homocysteine blood'] };
    const before = await c.query(q);
    await store.close();
    copyFileSync(old, join(dir, 'snapshots', textFile)); // the older snapshot
    store = await openStore({ path: dir });
    const after = await store.collection('docs').query(q);
    expect(after.ids).toEqual(before.ids);
    expect([...after.scores]).toEqual([...before.scores]);
    // And from no snapshot at all: tokenized again from the payloads.
    await store.close();
    rmSync(join(dir, 'snapshots', textFile));
    store = await openStore({ path: dir });
    const rebuilt = await store.collection('docs').query(q);
    expect(rebuilt.ids).toEqual(before.ids);
    expect([...rebuilt.scores]).toEqual([...before.scores]);
    expect(existsSync(old)).toBe(true);
  });

  it('refuses malformed text settings, sparse vectors and mismatched query counts with typed errors', async () => {
    await expect(store.createCollection({ name: 'bad', dim: 2, metric: 'l2', text: { language: 'fr' as 'en', k1: 1, b: 0.5 } })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
    });
    await fill();
    const c = store.collection('docs');
    const bad = { indices: Uint32Array.from([3, 1]), values: Float32Array.from([1, 1]) };
    await expect(Promise.resolve().then(() => c.upsert({ ids: ['x'], vectors: new Float32Array(DIM), sparse: [bad] }))).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
    });
    await expect(c.query({ vectors: Float32Array.from(vec(1)), k: 2, text: ['a', 'b'] })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' });
    await expect(c.query({ vectors: new Float32Array(0), k: 2, text: ['a'], fusion: { method: 'max' as 'rrf' } })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
    });
  });
});
