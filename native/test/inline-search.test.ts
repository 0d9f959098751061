// IndexOptions.inlineSearchBudget: a single search estimated below the budget runs on the calling
// thread and resolves within the same turn of the event loop; above it (or with budget 0) it runs on the engine's
// threads while the event loop goes on. The answers are the same either way.
import { describe, expect, it } from 'vitest';
import { createIndex, type Index } from '@ragwire/native';

const DIM = 64;

function filled(n: number, seed: number): Float32Array {
  const v = new Float32Array(n * DIM);
  let x = seed >>> 0;
  for (let i = 0; i < v.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    v[i] = x / 2 ** 32 - 0.5;
  }
  return v;
}

async function built(kind: 'flat' | 'hnsw', rows: number, inlineSearchBudget?: number): Promise<Index> {
  const index = createIndex({ dim: DIM, metric: 'l2', kind, ...(inlineSearchBudget !== undefined ? { inlineSearchBudget } : {}) });
  await index.add(
    Uint32Array.from({ length: rows }, (_, i) => i),
    filled(rows, 7),
  );
  return index;
}

/**
 * Whether the search's answer was there within the turn of the event loop that asked for it (after a
 * few microtask hops): an inline search resolves at once, while an answer from the engine's threads
 * can only arrive in a later turn, however soon the threads finish.
 */
async function answeredThisTurn(index: Index, query: Float32Array, k: number): Promise<{ inline: boolean; labels: number[] }> {
  let answered = false;
  const pending = index.search(query, k);
  void pending.then(() => {
    answered = true;
  });
  for (let i = 0; i < 8; i++) await Promise.resolve();
  const inline = answered;
  const r = await pending;
  return { inline, labels: Array.from(r.labels) };
}

describe('inline search budget', () => {
  it('answers a small single search on the calling thread, before the event loop turns', async () => {
    for (const kind of ['flat', 'hnsw'] as const) {
      const index = await built(kind, 2000);
      const { inline, labels } = await answeredThisTurn(index, filled(1, 99), 10);
      expect(inline, kind).toBe(true);
      expect(labels, kind).toEqual(Array.from(index.searchSync(filled(1, 99), 10).labels));
      index.close();
    }
  });

  it('sends a search above the budget, and every search with budget 0, to the engine threads', async () => {
    const big = await built('flat', 100_000); // 6.4M floats per query: over the default budget
    const pooled = await answeredThisTurn(big, filled(1, 5), 10);
    expect(pooled.inline).toBe(false);
    expect(pooled.labels).toEqual(Array.from(big.searchSync(filled(1, 5), 10).labels));
    big.close();
    const small = await built('flat', 2000, 0);
    const zero = await answeredThisTurn(small, filled(1, 5), 10);
    expect(zero.inline).toBe(false);
    expect(zero.labels).toEqual(Array.from(small.searchSync(filled(1, 5), 10).labels));
    small.close();
  });

  it('refuses a budget that is not a non-negative integer', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => createIndex({ dim: DIM, metric: 'l2', inlineSearchBudget: bad })).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }));
    }
  });
});
