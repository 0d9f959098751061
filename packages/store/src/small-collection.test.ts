// Issue 16 §4, the reproduction: 400 documents with bag-of-words embeddings in a default (HNSW)
// collection, then a document whose words no other document shares. Every other vector is
// orthogonal to a query made of its words, so a graph walk has no gradient to follow to it. Under
// the store's exact-scan size a query scans exactly, finds it, and says `exact: true`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '@ragwire/datasets';
import { DEFAULT_EXACT_SCAN_BYTES, openStore, type Store } from './index';

const VOCAB = 512;
const DOCS = 400;
let dir: string | undefined;
let store: Store | undefined;

afterEach(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Unit-norm bag of words over word ids. */
function bagOfWords(words: number[]): number[] {
  const v = new Array<number>(VOCAB).fill(0);
  for (const w of words) v[w]! += 1;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

async function reproduce(exactScanBytes: number | undefined, seed: number) {
  dir = mkdtempSync(join(tmpdir(), 'ragwire-small-'));
  store = await openStore({ path: dir, ...(exactScanBytes !== undefined ? { exactScanBytes } : {}) });
  await store.createCollection({ name: 'bow', dim: VOCAB, metric: 'cosine', params: { seed } });
  const c = store.collection('bow');
  const prng = new Prng(seed);
  // The 400 documents use words 0..479; the late one words 480..511 only.
  const docs = Array.from({ length: DOCS }, () => Array.from({ length: 12 }, () => prng.nextInt(480)));
  await c.upsert({ ids: docs.map((_, i) => `d${i}`), vectors: Float32Array.from(docs.flatMap(bagOfWords)) });
  const late = [480, 490, 500, 510];
  await c.upsert({ ids: ['late'], vectors: Float32Array.from(bagOfWords(late)) });
  return c.query({ vectors: Float32Array.from(bagOfWords(late)), k: 5 });
}

describe('small collections are searched exactly', () => {
  it('finds a document orthogonal to every other one, and says the search was exact', async () => {
    expect(DOCS * VOCAB * 4).toBeLessThan(DEFAULT_EXACT_SCAN_BYTES);
    for (const seed of [1, 2, 3]) {
      const r = await reproduce(undefined, seed);
      expect(r.ids[0]).toBe('late');
      expect(r.scores[0]).toBeCloseTo(1, 5);
      expect(r.exact).toBe(true);
      await store!.close();
      store = undefined;
    }
  });

  it('walks the graph above the threshold, and says it was approximate', async () => {
    const r = await reproduce(0, 1);
    expect(r.exact).toBe(false);
    // Whether the walk reaches the late document depends on the graph; the issue saw hnswlib-node
    // find it for 1 seed in 20. Logged, not asserted.
    console.log(`HNSW walk without the exact scan: the late document ${r.ids[0] === 'late' ? 'found' : 'missed'}`);
  });
});
