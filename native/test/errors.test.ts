// Every bad input gets its typed error (checked by `.code` and by `instanceof`), never a crash or a hang.
import { describe, expect, it } from 'vitest';
import {
  ClosedError,
  DimensionMismatchError,
  DuplicateLabelError,
  InvalidArgumentError,
  LimitExceededError,
  NonFiniteVectorError,
  UnknownOptionError,
} from '@ragwire/protocol';
import type { RagwireError } from '@ragwire/protocol';
import { createIndex, type Index, type IndexOptions } from '@ragwire/native';
import { expectRagwireError, expectRagwireErrorSync, labelRange } from './support';

const DIM = 8;
const vectors = (n: number): Float32Array => Float32Array.from({ length: n * DIM }, (_, i) => Math.cos(i * 0.37));
type Expected = readonly [abstract new (...args: never[]) => RagwireError, string];
const INVALID: Expected = [InvalidArgumentError, 'RAGWIRE_ERR_INVALID_ARGUMENT'];
const DIM_MISMATCH: Expected = [DimensionMismatchError, 'RAGWIRE_ERR_DIM_MISMATCH'];
const NON_FINITE: Expected = [NonFiniteVectorError, 'RAGWIRE_ERR_NON_FINITE'];
const UNKNOWN: Expected = [UnknownOptionError, 'RAGWIRE_ERR_UNKNOWN_OPTION'];
const LIMIT: Expected = [LimitExceededError, 'RAGWIRE_ERR_LIMIT'];
const DUPLICATE: Expected = [DuplicateLabelError, 'RAGWIRE_ERR_DUPLICATE_LABEL'];
const CLOSED: Expected = [ClosedError, 'RAGWIRE_ERR_CLOSED'];

/** Lets a test pass values the types forbid, as a JS caller can. */
const loose = <T>(v: unknown): T => v as T;

describe('createIndex refuses bad options', () => {
  const good: IndexOptions = { dim: DIM, metric: 'l2', kind: 'hnsw', storage: 'f32' };
  const cases: [string, unknown, Expected][] = [
    ['dim 0', { ...good, dim: 0 }, INVALID],
    ['dim -3', { ...good, dim: -3 }, INVALID],
    ['dim 2.5', { ...good, dim: 2.5 }, INVALID],
    ['dim NaN', { ...good, dim: NaN }, INVALID],
    ['dim as a string', { ...good, dim: '8' }, INVALID],
    ['dim missing', { metric: 'l2' }, INVALID],
    ['dim 65537', { ...good, dim: 65_537 }, LIMIT],
    ['metric "euclidean"', { ...good, metric: 'euclidean' }, INVALID],
    ['metric missing', { dim: DIM }, INVALID],
    ['kind "ivf"', { ...good, kind: 'ivf' }, INVALID],
    ['storage "int4"', { ...good, storage: 'int4' }, INVALID],
    ['hnsw.M 0', { ...good, hnsw: { M: 0 } }, INVALID],
    ['hnsw.efConstruction 1.5', { ...good, hnsw: { efConstruction: 1.5 } }, INVALID],
    ['hnsw.inlineCodes "yes"', { ...good, storage: 'sq8', hnsw: { inlineCodes: 'yes' } }, INVALID],
    ['hnsw.inlineCodes on f32 storage', { ...good, hnsw: { inlineCodes: true } }, INVALID],
    ['hnsw.inlineCodes with metric l1', { ...good, metric: 'l1', storage: 'sq8', hnsw: { inlineCodes: true } }, INVALID],
    ['hnsw.inlineCodes on a flat index', { ...good, kind: 'flat', storage: 'sq8', hnsw: { inlineCodes: true } }, INVALID],
    ['unknown top-level option', { ...good, efSearch: 10 }, UNKNOWN],
    ['unknown hnsw option', { ...good, hnsw: { m: 16 } }, UNKNOWN],
    ['unknown bq option', { ...good, kind: 'bq', bq: { rerank: 3 } }, UNKNOWN],
  ];
  for (const [what, options, [cls, code]] of cases) {
    it(what, () => {
      expectRagwireErrorSync(() => createIndex(loose(options)), cls, code);
    });
  }

  it('accepts the limits themselves', () => {
    const big = createIndex({ dim: 65_536, metric: 'ip', kind: 'flat' });
    expect(big.stats().dim).toBe(65_536);
    big.close();
  });
});

describe('add, search and remove refuse bad input', () => {
  async function withIndex(fn: (index: Index) => Promise<void>, kind: IndexOptions['kind'] = 'hnsw'): Promise<void> {
    const index = createIndex({ dim: DIM, metric: 'l2', kind });
    try {
      await index.add(labelRange(20), vectors(20));
      await fn(index);
    } finally {
      index.close();
    }
  }

  for (const kind of ['flat', 'hnsw', 'bq'] as const) {
    describe(kind, () => {
      it('add: vector length not labels.length * dim', () =>
        withIndex(async (index) => {
          await expectRagwireError(() => index.add(labelRange(2, 100), vectors(3)), ...DIM_MISMATCH);
          await expectRagwireError(() => index.add(labelRange(2, 100), vectors(2).subarray(1)), ...DIM_MISMATCH);
          await expectRagwireError(() => index.add(labelRange(2, 100), new Float32Array(0)), ...DIM_MISMATCH);
          expect(index.stats().count).toBe(20);
        }, kind));

      it('add: NaN or +-Infinity anywhere, and nothing of the batch is added', () =>
        withIndex(async (index) => {
          for (const bad of [NaN, Infinity, -Infinity]) {
            const v = vectors(3);
            v[2 * DIM + 5] = bad;
            await expectRagwireError(() => index.add(labelRange(3, 100), v), ...NON_FINITE);
          }
          expect(index.stats().count).toBe(20);
          expect(await index.remove(labelRange(3, 100))).toBe(0);
        }, kind));

      it('add: the reserved label 0xFFFFFFFF', () =>
        withIndex(async (index) => {
          await expectRagwireError(() => index.add(Uint32Array.from([100, 0xffffffff]), vectors(2)), ...INVALID);
          expect(index.stats().count).toBe(20);
        }, kind));

      it('add: wrong typed array types', () =>
        withIndex(async (index) => {
          await expectRagwireError(() => index.add(loose(Int32Array.from([100])), vectors(1)), ...INVALID);
          await expectRagwireError(() => index.add(loose([100]), vectors(1)), ...INVALID);
          await expectRagwireError(() => index.add(labelRange(1, 100), loose(Float64Array.from(vectors(1)))), ...INVALID);
          await expectRagwireError(() => index.add(labelRange(1, 100), loose(Array.from(vectors(1)))), ...INVALID);
          expect(index.stats().count).toBe(20);
        }, kind));

      it('add: a live label again, or twice in one batch', () =>
        withIndex(async (index) => {
          await expectRagwireError(() => index.add(Uint32Array.from([100, 5]), vectors(2)), ...DUPLICATE);
          await expectRagwireError(() => index.add(Uint32Array.from([100, 101, 100]), vectors(3)), ...DUPLICATE);
          expect(index.stats().count).toBe(20);
          // After a remove the label is free again.
          expect(await index.remove(Uint32Array.from([5]))).toBe(1);
          await index.add(Uint32Array.from([5]), vectors(1));
          expect(index.stats().count).toBe(20);
        }, kind));

      it('search and searchSync: bad queries, k and options', () =>
        withIndex(async (index) => {
          const q = vectors(2);
          const nan = vectors(2);
          nan[DIM + 1] = NaN;
          const inf = vectors(1);
          inf[0] = -Infinity;
          const bad: [string, () => unknown, Expected][] = [
            ['queries not a multiple of dim', () => index.search(q.subarray(1), 3), DIM_MISMATCH],
            ['NaN in a query', () => index.search(nan, 3), NON_FINITE],
            ['-Infinity in a query', () => index.search(inf, 3), NON_FINITE],
            ['k 0', () => index.search(q, 0), INVALID],
            ['k -1', () => index.search(q, -1), INVALID],
            ['k 1.5', () => index.search(q, 1.5), INVALID],
            ['k NaN', () => index.search(q, NaN), INVALID],
            ['k 10001', () => index.search(q, 10_001), LIMIT],
            ['queries as Float64Array', () => index.search(loose(Float64Array.from(q)), 3), INVALID],
            ['queries as an array', () => index.search(loose(Array.from(q)), 3), INVALID],
            ['unknown search option', () => index.search(q, 3, loose({ ef: 10 })), UNKNOWN],
            ['filter as Int32Array', () => index.search(q, 3, { filter: loose(Int32Array.from([1])) }), INVALID],
            ['filter as an array', () => index.search(q, 3, { filter: loose([1, 2]) }), INVALID],
            ['sorted-label filter out of order', () => index.search(q, 3, { filter: Uint32Array.from([5, 3]) }), INVALID],
            ['sorted-label filter with a repeat', () => index.search(q, 3, { filter: Uint32Array.from([3, 3, 5]) }), INVALID],
            ['efSearch -1', () => index.search(q, 3, { efSearch: -1 }), INVALID],
          ];
          for (const [what, call, [cls, code]] of bad) {
            try {
              await expectRagwireError(call, cls, code);
            } catch (e) {
              throw new Error(`search, ${what}: ${(e as Error).message}`);
            }
          }
          // The same through searchSync, which throws on the calling thread.
          expectRagwireErrorSync(() => index.searchSync(q.subarray(1), 3), ...DIM_MISMATCH);
          expectRagwireErrorSync(() => index.searchSync(nan, 3), ...NON_FINITE);
          expectRagwireErrorSync(() => index.searchSync(q, 0), ...INVALID);
          expectRagwireErrorSync(() => index.searchSync(q, 10_001), ...LIMIT);
          expectRagwireErrorSync(() => index.searchSync(q, 3, loose({ ef: 10 })), ...UNKNOWN);
          expectRagwireErrorSync(() => index.searchSync(q, 3, { filter: loose(Int32Array.from([1])) }), ...INVALID);
          // k = 10000 is within the limit: a short index pads with empty slots.
          const r = await index.search(q.subarray(0, DIM), 10_000);
          expect(r.labels.length).toBe(10_000);
        }, kind));

      it('remove: wrong label type', () =>
        withIndex(async (index) => {
          await expectRagwireError(() => index.remove(loose([1, 2])), ...INVALID);
          await expectRagwireError(() => index.remove(loose(Int32Array.from([1]))), ...INVALID);
          expect(index.stats().count).toBe(20);
        }, kind));
    });
  }
});

describe('a closed index', () => {
  it('refuses every call with ClosedError; close() twice is harmless', async () => {
    const index = createIndex({ dim: DIM, metric: 'cosine', kind: 'hnsw' });
    await index.add(labelRange(5), vectors(5));
    index.close();
    index.close();
    await expectRagwireError(() => index.add(labelRange(1, 10), vectors(1)), ...CLOSED);
    await expectRagwireError(() => index.search(vectors(1), 1), ...CLOSED);
    expectRagwireErrorSync(() => index.searchSync(vectors(1), 1), ...CLOSED);
    await expectRagwireError(() => index.remove(labelRange(1)), ...CLOSED);
    await expectRagwireError(() => index.compact(), ...CLOSED);
    await expectRagwireError(() => index.save('/tmp/ragwire-closed-index.rwx'), ...CLOSED);
    expectRagwireErrorSync(() => index.stats(), ...CLOSED);
  });
});
