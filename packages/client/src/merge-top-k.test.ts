import { describe, expect, it } from 'vitest';
import { mergeTopK, type ColumnarHits } from './merge-top-k';

function list(perQuery: [string, number][][]): ColumnarHits {
  return {
    counts: Uint32Array.from(perQuery.map((q) => q.length)),
    ids: perQuery.flatMap((q) => q.map(([id]) => id)),
    scores: Float32Array.from(perQuery.flatMap((q) => q.map(([, s]) => s))),
    payloads: perQuery.flatMap((q) => q.map(([id]) => ({ text: id }))),
  };
}

describe('mergeTopK', () => {
  it('merges per-shard lists into the global top-k per query', () => {
    const a = list([
      [
        ['a1', 0.9],
        ['a2', 0.5],
        ['a3', 0.1],
      ],
      [['a4', -1]],
    ]);
    const b = list([
      [
        ['b1', 0.8],
        ['b2', 0.7],
      ],
      [],
    ]);
    const c = list([
      [['c1', 0.95]],
      [
        ['c2', -0.5],
        ['c3', -2],
      ],
    ]);
    const m = mergeTopK([a, b, c], 2, 3);
    expect([...m.counts]).toEqual([3, 3]);
    expect(m.ids).toEqual(['c1', 'a1', 'b1', 'c2', 'a4', 'c3']);
    expect([...m.scores]).toEqual([0.95, 0.9, 0.8, -0.5, -1, -2].map(Math.fround));
    expect(m.payloads!.map((p) => p!.text)).toEqual(m.ids);
  });

  it('returns fewer than k when the shards hold fewer, and breaks ties by shard order', () => {
    const m = mergeTopK([list([[['x', 1]]]), list([[['y', 1]]])], 1, 10);
    expect([...m.counts]).toEqual([1 + 1]);
    expect(m.ids).toEqual(['x', 'y']);
  });

  it("with ties: 'id', breaks ties by id, as one store orders text and sparse hits", () => {
    const m = mergeTopK(
      [
        list([
          [
            ['y', 1],
            ['b', 0.5],
          ],
        ]),
        list([
          [
            ['x', 1],
            ['a', 0.5],
          ],
        ]),
      ],
      1,
      3,
      'id',
    );
    expect(m.ids).toEqual(['x', 'y', 'a']);
  });

  it('agrees with sort-and-slice on random lists', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 50; trial++) {
      const shards = 1 + Math.floor(rand() * 6);
      const nq = 1 + Math.floor(rand() * 4);
      const k = 1 + Math.floor(rand() * 12);
      const lists = Array.from({ length: shards }, (_, s) =>
        list(
          Array.from({ length: nq }, (_, q) =>
            Array.from({ length: Math.floor(rand() * (k + 1)) }, (_, i) => [`s${s}q${q}i${i}`, Math.fround(rand())] as [string, number]).sort(
              (x, y) => y[1] - x[1],
            ),
          ),
        ),
      );
      const m = mergeTopK(lists, nq, k);
      let off = 0;
      const offs = lists.map(() => 0);
      for (let q = 0; q < nq; q++) {
        const all: [string, number][] = [];
        lists.forEach((l, s) => {
          for (let i = 0; i < l.counts[q]!; i++) all.push([l.ids[offs[s]! + i]!, l.scores[offs[s]! + i]!]);
          offs[s]! += l.counts[q]!;
        });
        const want = all
          .sort((x, y) => y[1] - x[1])
          .slice(0, k)
          .map(([, sc]) => sc);
        const got = [...m.scores.subarray(off, off + m.counts[q]!)];
        off += m.counts[q]!;
        expect(got).toEqual(want);
      }
      expect(m.payloads).toHaveLength(m.ids.length);
    }
  });

  it('carries each hit vector along with it', () => {
    const withVectors = (l: ColumnarHits, dim: number): ColumnarHits => ({
      ...l,
      vectors: Float32Array.from([...l.scores].flatMap((s) => Array.from({ length: dim }, (_, j) => s * 10 + j))),
    });
    const a = withVectors(
      list([
        [
          ['a1', 0.9],
          ['a2', 0.5],
        ],
      ]),
      3,
    );
    const b = withVectors(list([[['b1', 0.8]]]), 3);
    const m = mergeTopK([a, b], 1, 2);
    expect(m.ids).toEqual(['a1', 'b1']);
    expect([...m.vectors!]).toEqual([9, 10, 11, 8, 9, 10].map(Math.fround));
    expect(mergeTopK([a, list([[['b1', 0.8]]])], 1, 2).vectors).toBeUndefined();
  });

  it('drops payloads when a list has none', () => {
    const withP = list([[['a', 1]]]);
    const { payloads: _, ...without } = list([[['b', 0.5]]]);
    expect(mergeTopK([withP, without], 1, 2).payloads).toBeUndefined();
  });
});
