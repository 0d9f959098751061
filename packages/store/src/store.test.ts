import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bruteForceTopK, gaussianMixture } from '@ragwire/datasets';
import { encodeFrame, FrameDecoder, isEncodedPayload, type Payload, type ResultReply } from '@ragwire/protocol';
import { MAX_FILTER_STRING_CHARS } from '@ragwire/protocol';
import { indexedFields, openStore, type Store } from './index';

const DIM = 16;
let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ragwire-store-'));
  store = await openStore({ path: dir });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function data(n: number, seed = 1) {
  return gaussianMixture({ n, nQueries: 20, dim: DIM, clusters: 8, spread: 1, seed });
}

async function fill(name: string, n: number, kind: 'flat' | 'hnsw' = 'hnsw') {
  await store.createCollection({ name, dim: DIM, metric: 'l2', kind });
  const d = data(n);
  const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
  const payloads = ids.map((id, i) => ({
    text: `text of ${id}`,
    metadata: { i, parity: i % 2 ? 'odd' : 'even', tags: [`t${i % 5}`], nested: { bucket: i % 10 } },
  }));
  await store.collection(name).upsert({ ids, vectors: d.base, payloads });
  return { d, ids };
}

describe('store', () => {
  it('keeps payloads in their wire form and serves them without re-encoding, the same as plain ones', async () => {
    const { d } = await fill('wire', 300, 'flat');
    const c = store.collection('wire');
    const query = { vectors: d.queries.subarray(0, DIM), k: 5, options: { withPayload: true } };
    const plain = await c.query(query);
    const encoded = await c.query(query, { encodedPayloads: true });
    expect(encoded.ids).toEqual(plain.ids);
    for (const p of encoded.payloads!) expect(isEncodedPayload(p)).toBe(true);
    // Read as Payloads they are the same; sent in a RESULT frame they decode to the same.
    encoded.payloads!.forEach((p, i) => expect({ text: p!.text, metadata: p!.metadata }).toEqual(plain.payloads![i]));
    const frame = encodeFrame({ type: 'result', ...encoded }, 7);
    const [event] = new FrameDecoder().push(frame);
    expect(event!.ok).toBe(true);
    expect((event as { message: ResultReply }).message.payloads).toEqual(plain.payloads);
  });

  it('serves payloads of records written before the wire form existed', async () => {
    await fill('legacy', 20, 'flat');
    const c = store.collection('legacy');
    const old: Payload = { text: 'old text', metadata: { era: 'before' } };
    const label = c.dbs.docs.get('doc-3')!.label;
    await c.dbs.docs.put('doc-3', { label, ...old }); // the earlier record layout
    expect(c.payload('doc-3')).toEqual(old);
    const again = c.encodedPayload('doc-3')!;
    expect(again.decoded()).toEqual(old);
    expect(c.payload('doc-4')).toEqual({ text: 'text of doc-4', metadata: { i: 4, parity: 'even', tags: ['t4'], nested: { bucket: 4 } } });
  });

  it('refuses a payload the wire could not carry before writing anything', async () => {
    await fill('bad', 10, 'flat');
    const c = store.collection('bad');
    const before = c.info().count;
    const vectors = new Float32Array(2 * DIM).fill(0.5);
    await expect(async () => c.upsert({ ids: ['x', 'y'], vectors, payloads: [{ text: 'fine' }, { text: 42 as unknown as string }] })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
    });
    expect(c.info().count).toBe(before);
    expect(c.payload('x')).toBeNull();
  });

  it('answers exact queries equal to a brute force, with payloads', async () => {
    const { d } = await fill('a', 2000);
    const r = await store.collection('a').query({ vectors: d.queries, k: 10, options: { exact: true, withPayload: true } });
    const truth = bruteForceTopK(d.base, d.queries, DIM, 10, 'l2');
    expect(Array.from(r.counts)).toEqual(new Array(20).fill(10));
    for (let q = 0; q < 20; q++) {
      for (let j = 0; j < 10; j++) {
        expect(r.scores[q * 10 + j]).toBeCloseTo(truth.scores[q * 10 + j]!, 2);
      }
    }
    expect(r.payloads![0]!.text).toBe(`text of ${r.ids[0]}`);
    expect(store.describe('a')[0]!.count).toBe(2000);
  });

  it('replaces a document upserted again under the same id', async () => {
    const { d } = await fill('a', 500, 'flat');
    const c = store.collection('a');
    const target = d.queries.slice(0, DIM);
    await c.upsert({ ids: ['doc-7'], vectors: target, payloads: [{ text: 'moved' }] });
    const r = await c.query({ vectors: target, k: 3, options: { withPayload: true } });
    expect(r.ids[0]).toBe('doc-7');
    expect(r.scores[0]).toBeCloseTo(0, 5);
    expect(r.payloads![0]).toEqual({ text: 'moved' });
    expect(c.info().count).toBe(500);
    expect(new Set(r.ids).size).toBe(3);
  });

  it('filters with must, should, must_not, in, range, exists, nested keys and arrays', async () => {
    const { d } = await fill('a', 1000);
    const c = store.collection('a');
    const q = async (filter: object) => {
      const r = await c.query({ vectors: d.queries.subarray(0, DIM), k: 1000, filter: filter as never, options: { withPayload: true } });
      return r.payloads!.map((p) => p!.metadata as { i: number; parity: string; tags: string[]; nested: { bucket: number } });
    };
    const odd = await q({ must: [{ key: 'parity', eq: 'odd' }] });
    expect(odd.length).toBeGreaterThan(0);
    expect(odd.every((m) => m.i % 2 === 1)).toBe(true);
    const range = await q({ must: [{ key: 'i', range: { gte: 100, lt: 110 } }] });
    expect(range.map((m) => m.i).sort((a, b) => a - b)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    const nested = await q({ must: [{ key: 'nested.bucket', in: [3, 4] }], must_not: [{ key: 'parity', eq: 'even' }] });
    expect(nested.length).toBe(100);
    expect(nested.every((m) => m.nested.bucket === 3)).toBe(true);
    const tags = await q({
      should: [
        { key: 'tags', eq: 't1' },
        { key: 'tags', eq: 't2' },
      ],
    });
    expect(tags.length).toBe(400);
    expect((await q({ must: [{ key: 'missing', exists: false }] })).length).toBe(1000);
    expect((await q({ must: [{ key: 'missing', exists: true }] })).length).toBe(0);
    await expect(c.query({ vectors: d.queries.subarray(0, DIM), k: 5, filter: { must: [{ key: 'i', bogus: 1 }] } as never })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_FILTER',
    });
  });

  it('notes long metadata strings as present without indexing their value, and refuses comparing with one', async () => {
    await store.createCollection({ name: 'long', dim: DIM, metric: 'l2', kind: 'flat' });
    const c = store.collection('long');
    const long = 'x'.repeat(MAX_FILTER_STRING_CHARS + 1);
    const edge = 'y'.repeat(MAX_FILTER_STRING_CHARS);
    const vectors = new Float32Array(3 * DIM).fill(0.25);
    await c.upsert({ ids: ['a', 'b', 'c'], vectors, payloads: [{ metadata: { blob: long } }, { metadata: { blob: edge } }, { metadata: { other: 1 } }] });
    const ids = async (filter: object) => (await c.query({ vectors: vectors.subarray(0, DIM), k: 10, filter: filter as never })).ids.sort();
    expect(await ids({ must: [{ key: 'blob', exists: true }] })).toEqual(['a', 'b']);
    expect(await ids({ must: [{ key: 'blob', eq: edge }] })).toEqual(['b']);
    expect(await ids({ must_not: [{ key: 'blob', exists: true }] })).toEqual(['c']);
    expect(indexedFields({ blob: long, n: 1 })).toEqual([
      ['blob', undefined],
      ['n', 1],
    ]);
    await expect(ids({ must: [{ key: 'blob', eq: long }] })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_FILTER' });
    await expect(ids({ must: [{ key: 'blob', in: ['a', long] }] })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_FILTER' });
    // Removing a document with a long value leaves the index consistent.
    await c.delete({ ids: ['a'] });
    expect(await ids({ must: [{ key: 'blob', exists: true }] })).toEqual(['b']);
  });

  it('deletes by ids and by filter', async () => {
    const { d } = await fill('a', 300, 'flat');
    const c = store.collection('a');
    expect((await c.delete({ ids: ['doc-1', 'doc-2', 'nope'] })).deleted).toBe(2);
    expect((await c.delete({ filter: { must: [{ key: 'parity', eq: 'even' }] } })).deleted).toBe(149); // doc-2 was even and is gone
    const r = await c.query({ vectors: d.base, k: 300, options: { exact: true } });
    const found = new Set(r.ids);
    expect(found.has('doc-1')).toBe(false);
    expect(found.has('doc-0')).toBe(false);
    expect(found.has('doc-3')).toBe(true);
    expect(c.info().count).toBe(149);
  });

  it('survives close and reopen, from the snapshot and from a rebuild', async () => {
    const { d } = await fill('a', 1500);
    const before = await store.collection('a').query({ vectors: d.queries, k: 10, options: { exact: true } });
    await store.collection('a').snapshot();
    await store.collection('a').upsert({ ids: ['late'], vectors: d.queries.slice(0, DIM) });
    await store.collection('a').delete({ ids: ['doc-3'] });
    await store.close();

    store = await openStore({ path: dir });
    const c = store.collection('a');
    expect(c.info().count).toBe(1500);
    const after = await c.query({ vectors: d.queries, k: 10, options: { exact: true } });
    expect(after.ids[0]).toBe('late');
    expect(after.ids).not.toContain('doc-3');
    await store.close();

    // A damaged snapshot is ignored: the index is rebuilt from LMDB.
    const snap = join(dir, 'snapshots', `${c.record.incarnation}.snap`);
    const bytes = readFileSync(snap);
    bytes[bytes.length - 100]! ^= 0xff;
    writeFileSync(snap, bytes);
    store = await openStore({ path: dir });
    const rebuilt = await store.collection('a').query({ vectors: d.queries, k: 10, options: { exact: true } });
    expect(rebuilt.ids).toEqual(after.ids);
    expect(store.stats('a').docs).toBe(1500);
    expect(before.ids.length).toBe(200);
  });

  it('acknowledges concurrent writers in order with increasing sequence numbers', async () => {
    await store.createCollection({ name: 'a', dim: DIM, metric: 'cosine' });
    const c = store.collection('a');
    const d = data(200);
    const acks = await Promise.all(
      Array.from({ length: 200 }, (_, i) => c.upsert({ ids: [`w${i}`], vectors: d.base.slice(i * DIM, (i + 1) * DIM), payloads: [{ metadata: { i } }] })),
    );
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(c.info().count).toBe(200);
    const r = await c.query({ vectors: d.base.slice(0, DIM), k: 1, options: { exact: true } });
    expect(r.ids[0]).toBe('w0');
  });

  it('refuses bad input with typed errors', async () => {
    await store.createCollection({ name: 'a', dim: DIM, metric: 'l2' });
    const c = store.collection('a');
    const v = new Float32Array(DIM);
    expect(() => c.upsert({ ids: ['x'], vectors: new Float32Array(DIM + 1) })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_DIM_MISMATCH' }));
    expect(() => c.upsert({ ids: ['x'], vectors: v.map(() => NaN) })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_NON_FINITE' }));
    expect(() => c.upsert({ ids: ['x', 'x'], vectors: new Float32Array(2 * DIM) })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }));
    await expect(c.query({ vectors: v, k: 0 })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' });
    expect(() => store.collection('nope')).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_UNKNOWN_COLLECTION' }));
    await expect(store.createCollection({ name: 'a', dim: DIM, metric: 'l2' })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_COLLECTION_EXISTS' });
    expect((await store.createCollection({ name: 'a', dim: DIM, metric: 'l2', ifNotExists: true })).created).toBe(false);
    await expect(store.createCollection({ name: 'b/../x', dim: DIM, metric: 'l2' })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' });
    await expect(store.createCollection({ name: 'b', dim: DIM, metric: 'l2', params: { efsearch: 3 } })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_UNKNOWN_OPTION',
    });
  });

  it('builds a collection with inline codes when its params ask, keeps them across a reopen, and refuses what the engine cannot build before recording it', async () => {
    const d = data(600);
    const ids = Array.from({ length: 600 }, (_, i) => `doc-${i}`);
    for (const [name, params] of [
      ['inline', { inlineCodes: 1 }],
      ['plain', { inlineCodes: 0 }],
    ] as const) {
      const { info } = await store.createCollection({ name, dim: DIM, metric: 'l2', storage: 'sq8', params: { ...params, seed: 7 } });
      expect(info.params).toEqual({ ...params, seed: 7 });
      await store.collection(name).upsert({ ids, vectors: d.base });
    }
    expect(store.collection('inline').stats()['index.inlineCodes']).toBe(true);
    expect(store.collection('plain').stats()['index.inlineCodes']).toBe(false);
    // The same graph (one seed, one build order) walked over copies of the codes: the same answers.
    const query = { vectors: d.queries.subarray(0, DIM), k: 10 };
    const plain = await store.collection('plain').query(query);
    expect((await store.collection('inline').query(query)).ids).toEqual(plain.ids);

    // Refused with the engine's reason (f32 storage), and not recorded: a reopened store does not know it.
    await expect(store.createCollection({ name: 'f32', dim: DIM, metric: 'l2', params: { inlineCodes: 1 } })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('inlineCodes'),
    });
    await expect(store.createCollection({ name: 'l1', dim: DIM, metric: 'l1', storage: 'sq8', params: { inlineCodes: 1 } })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
    });
    await expect(store.createCollection({ name: 'two', dim: DIM, metric: 'l2', storage: 'sq8', params: { inlineCodes: 2 } })).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('0 (off) or 1 (on)'),
    });
    await store.close();
    const rebuilt: string[] = [];
    store = await openStore({ path: dir, onRebuild: (e) => rebuilt.push(e.collection) });
    expect(
      store
        .describe()
        .map((c) => c.name)
        .sort(),
    ).toEqual(['inline', 'plain']);
    expect(rebuilt).toEqual([]); // both from their snapshots
    expect(store.collection('inline').stats()['index.inlineCodes']).toBe(true);
    expect((await store.collection('inline').query(query)).ids).toEqual(plain.ids);
  });

  it('drops a collection and starts clean under the same name', async () => {
    await fill('a', 100, 'flat');
    expect((await store.dropCollection('a')).dropped).toBe(true);
    expect((await store.dropCollection('a', { ifExists: true })).dropped).toBe(false);
    await store.createCollection({ name: 'a', dim: DIM, metric: 'l2' });
    expect(store.collection('a').info().count).toBe(0);
    await store.close();
    store = await openStore({ path: dir });
    expect(store.collection('a').info().count).toBe(0);
  });

  it('gives the same answers inline and on the engine pool', async () => {
    const { d } = await fill('a', 1000);
    const c = store.collection('a');
    const inline = [];
    for (let q = 0; q < 20; q++) inline.push(await c.query({ vectors: d.queries.slice(q * DIM, (q + 1) * DIM), k: 10 }));
    await store.close();
    store = await openStore({ path: dir, inlineSearchBudget: 0 });
    const pooled = store.collection('a');
    for (let q = 0; q < 20; q++) {
      const r = await pooled.query({ vectors: d.queries.slice(q * DIM, (q + 1) * DIM), k: 10 });
      expect(r.ids).toEqual(inline[q]!.ids);
      expect(Array.from(r.scores)).toEqual(Array.from(inline[q]!.scores));
    }
  });

  it('refuses a second live owner of the directory', async () => {
    writeFileSync(join(dir, 'owner.pid'), String(process.ppid));
    await expect(openStore({ path: dir })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_IO' });
  });
});
