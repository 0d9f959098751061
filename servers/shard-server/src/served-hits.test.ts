import { describe, expect, it } from 'vitest';
import type { ResultReply } from '@ragwire/protocol';
import { answerServed, servedHits } from './served-hits';

function reply(k: number, rows: string[][]): ResultReply {
  const ids = rows.flat();
  return {
    type: 'result',
    k,
    counts: Uint32Array.from(rows, (r) => r.length),
    ids,
    scores: Float32Array.from(ids, (_, i) => -i),
    vectors: Float32Array.from(ids.flatMap((_, i) => [i, i])),
  };
}

describe('served hits', () => {
  it('keeps the served hits of each query in order, with their vectors', () => {
    const { reply: out, truncated } = servedHits(
      reply(3, [
        ['a1', 'x', 'a2'],
        ['x', 'a3'],
      ]),
      (id) => id.startsWith('a'),
      3,
    );
    expect(out.ids).toEqual(['a1', 'a2', 'a3']);
    expect([...out.counts]).toEqual([2, 1]);
    expect([...out.vectors!]).toEqual([0, 0, 2, 2, 4, 4]);
    expect(truncated).toBe(true); // the first list was full and lost a hit
  });

  it('asks again for more hits while a full list lost some', async () => {
    const all = ['x1', 'a1', 'x2', 'a2', 'a3', 'a4'];
    const asked: number[] = [];
    const out = await answerServed(
      async (k) => (asked.push(k), reply(k, [all.slice(0, k)])),
      2,
      100,
      (id) => id.startsWith('a'),
    );
    expect(asked).toEqual([2, 4]);
    expect(out.ids).toEqual(['a1', 'a2']);
    expect(out.k).toBe(2);
  });
});
