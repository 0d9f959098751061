// Collection.applyAt: a fleet's write log applied exactly once, its position committed with each write.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './index';

const DIM = 4;
let dir: string;
let store: Store;
const v = (n: number, x = 0.5) => new Float32Array(n * DIM).fill(x);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ragwire-apply-at-'));
  store = await openStore({ path: dir });
  await store.createCollection({ name: 'c', dim: DIM, metric: 'cosine', kind: 'flat' });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Collection.applyAt', () => {
  it('applies each position once, in any number of deliveries, and keeps the position across a reopen', async () => {
    const c = store.collection('c');
    expect(c.logSeq).toBe(0);
    const writes = [
      c.applyAt(1, { upsert: { ids: ['a', 'b'], vectors: v(2) } }),
      c.applyAt(2, { upsert: { ids: ['c'], vectors: v(1) } }),
      c.applyAt(2, { upsert: { ids: ['c'], vectors: v(1) } }), // redelivered: skipped
      c.applyAt(3, { delete: { ids: ['a'] } }),
      c.applyAt(1, { upsert: { ids: ['a'], vectors: v(1) } }), // old: skipped
    ];
    expect((await Promise.all(writes)).map((r) => r.applied)).toEqual([true, true, false, true, false]);
    expect(c.logSeq).toBe(3);
    expect(c.stats().seq).toBe(3); // three store writes: one per applied position
    await store.close();
    store = await openStore({ path: dir });
    const again = store.collection('c');
    expect(again.logSeq).toBe(3);
    expect(again.info().count).toBe(2);
    expect(await again.applyAt(3, { upsert: { ids: ['z'], vectors: v(1) } })).toEqual({ applied: false });
  });

  it('a write the store refuses still consumes its position, so every replica agrees', async () => {
    const c = store.collection('c');
    await expect(c.applyAt(1, { upsert: { ids: ['a'], vectors: new Float32Array(DIM + 1) } })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_DIM_MISMATCH' });
    expect(c.logSeq).toBe(1);
    await expect(c.applyAt(2, { delete: { filter: {} } })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_FILTER' });
    expect(c.logSeq).toBe(2);
    await store.close();
    store = await openStore({ path: dir });
    expect(store.collection('c').logSeq).toBe(2);
    expect(store.collection('c').info().count).toBe(0);
  });

  it('a delete by filter applies to the documents held at its position', async () => {
    const c = store.collection('c');
    await c.applyAt(1, { upsert: { ids: ['a', 'b'], vectors: v(2), payloads: [{ metadata: { g: 1 } }, { metadata: { g: 2 } }] } });
    await c.applyAt(2, { delete: { filter: { must: [{ key: 'g', eq: 1 }] } } });
    await c.applyAt(3, { upsert: { ids: ['a'], vectors: v(1), payloads: [{ metadata: { g: 1 } }] } });
    expect([...c.labelToId.values()].sort()).toEqual(['a', 'b']);
  });

  it('records a position passed over without a write, and keeps it across a reopen', async () => {
    const c = store.collection('c');
    await c.applyAt(1, { upsert: { ids: ['a'], vectors: v(1) } });
    const [recorded, again] = await Promise.all([c.recordLogSeq(5), c.recordLogSeq(4)]);
    expect([recorded, again]).toEqual([true, false]);
    expect(c.logSeq).toBe(5);
    expect(c.stats().seq).toBe(1); // no store write
    expect(await c.applyAt(5, { upsert: { ids: ['z'], vectors: v(1) } })).toEqual({ applied: false });
    expect(() => c.recordLogSeq(0)).toThrow(/positive integer/);
    await store.close();
    store = await openStore({ path: dir });
    expect(store.collection('c').logSeq).toBe(5);
    expect(await store.collection('c').applyAt(6, { delete: { ids: ['a'] } })).toEqual({ applied: true });
    expect(store.collection('c').info().count).toBe(0);
  });
});
