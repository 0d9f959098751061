// Collection.applyGroupAt: consecutive write-log entries applied as one store write, with the result of
// applying them one by one (Collection.applyAt) and the last entry's position committed with it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Collection, type LogEntry, type Store } from './index';

const DIM = 4;
let dir: string;
let store: Store;

/** `n` rows, row i filled with x + i. */
const rows = (n: number, x: number) => Float32Array.from({ length: n * DIM }, (_, i) => x + Math.floor(i / DIM));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ragwire-apply-group-'));
  store = await openStore({ path: dir });
  for (const name of ['one', 'group']) await store.createCollection({ name, dim: DIM, metric: 'l2', kind: 'hnsw' });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every document: id, first vector value (read back from LMDB), payload. */
function contents(c: Collection): [string, number, unknown][] {
  return [...c.dbs.docs.getRange()].map(({ key, value }) => [key, c.dbs.vectors.getBinary(value.label)!.readFloatLE(0), c.payload(key)]);
}

// Upserts, re-upserts, deletes of present, absent and just-upserted ids, and two refused entries.
const entries: LogEntry[] = [
  { logSeq: 1, write: { upsert: { ids: ['a', 'b', 'c'], vectors: rows(3, 10), payloads: [{ text: 'a1' }, null, { metadata: { g: 1 } }] } } },
  { logSeq: 2, write: { delete: { ids: ['b', 'zz'] } } },
  { logSeq: 4, write: { upsert: { ids: ['a', 'd'], vectors: rows(2, 20) } } },
  { logSeq: 5, write: { upsert: { ids: ['e'], vectors: new Float32Array(DIM + 1) } } }, // refused: wrong dimension
  { logSeq: 6, write: { upsert: { ids: ['d', 'd'], vectors: rows(2, 30) } } }, // refused: an id twice
  { logSeq: 7, write: { delete: { ids: ['d'] } } },
  { logSeq: 8, write: { upsert: { ids: ['b', 'f'], vectors: rows(2, 40), payloads: [{ metadata: { g: 2 } }, { text: 'f' }] } } },
  { logSeq: 9, write: { delete: { ids: ['f'] } } },
];

describe('Collection.applyGroupAt', () => {
  it('leaves the documents applying the entries one by one leaves, in one store write at the last position', async () => {
    const one = store.collection('one');
    const group = store.collection('group');
    const codes: string[] = [];
    for (const { logSeq, write } of entries) await one.applyAt(logSeq, write).catch((e: { code: string }) => codes.push(e.code));
    expect(codes).toEqual(['RAGWIRE_ERR_DIM_MISMATCH', 'RAGWIRE_ERR_INVALID_ARGUMENT']);
    const result = await group.applyGroupAt(entries);
    expect(result.applied).toBe(6);
    expect(result.refused.map((r) => [r.logSeq, (r.error as { code: string }).code])).toEqual([
      [5, 'RAGWIRE_ERR_DIM_MISMATCH'],
      [6, 'RAGWIRE_ERR_INVALID_ARGUMENT'],
    ]);
    expect(contents(group)).toEqual(contents(one));
    expect(contents(group).map(([id, x]) => [id, x])).toEqual([
      ['a', 20],
      ['b', 40],
      ['c', 12],
    ]);
    expect(group.logSeq).toBe(9);
    expect(group.stats().seq).toBe(1); // one store write
    expect(one.stats().seq).toBe(6);
    expect([group.stats()['log.writes'], one.stats()['log.writes']]).toEqual([6, 6]); // log entries applied, however grouped
    // The index holds the same documents: the nearest to b's vector is b in both.
    const q = { vectors: rows(1, 40), k: 3 };
    expect((await group.query(q)).ids).toEqual((await one.query(q)).ids);
    expect([...group.labelToId.values()].sort()).toEqual(['a', 'b', 'c']);
  });

  it('skips entries at or below the position, keeps the position across a reopen, and commits a group of refused entries', async () => {
    const group = store.collection('group');
    await group.applyAt(2, { upsert: { ids: ['x'], vectors: rows(1, 1) } });
    const r = await group.applyGroupAt(entries.slice(0, 3)); // 1 and 2 are at or below the position
    expect(r).toEqual({ applied: 1, refused: [] });
    expect(contents(group).map(([id]) => id)).toEqual(['a', 'd', 'x']);
    expect(await group.applyGroupAt(entries.slice(0, 3))).toEqual({ applied: 0, refused: [] });
    const refused = await group.applyGroupAt(entries.slice(3, 5));
    expect(refused.applied).toBe(0);
    expect(group.logSeq).toBe(6);
    await store.close();
    store = await openStore({ path: dir });
    const again = store.collection('group');
    expect(again.logSeq).toBe(6);
    expect(again.stats()['log.writes']).toBe(2); // x, then the entry at 4: refused entries are not counted
    expect(contents(again).map(([id, x]) => [id, x])).toEqual([
      ['a', 20],
      ['d', 21],
      ['x', 1],
    ]);
    expect(again.info().count).toBe(3);
  });

  it('refuses entries out of log order, and a delete by filter or of everything (applied alone)', () => {
    const group = store.collection('group');
    expect(() => group.applyGroupAt([entries[2]!, entries[0]!])).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }));
    expect(() => group.applyGroupAt([{ logSeq: 1, write: { delete: { all: true } } }])).toThrow(/applied alone/);
    expect(group.logSeq).toBe(0);
  });
});
