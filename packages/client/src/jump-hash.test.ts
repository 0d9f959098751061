import { describe, expect, it } from 'vitest';
import { fnv1a64, jumpConsistentHash, shardOf } from './jump-hash';

function fnvReference(id: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(id)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & ((1n << 64n) - 1n);
  }
  return h;
}

const ids = Array.from({ length: 20_000 }, (_, i) => `doc-${i}`);

describe('fnv1a64', () => {
  it('matches a BigInt reference, ASCII and not', () => {
    for (const id of ['', 'a', 'foobar', 'doc-123456', 'héllo wörld', '日本語', '🙂 emoji', 'x'.repeat(600)]) {
      const [hi, lo] = fnv1a64(id);
      expect((BigInt(hi) << 32n) | BigInt(lo), id).toBe(fnvReference(id));
    }
  });
  it('has the published test vectors', () => {
    expect(fnv1a64('')).toEqual([0xcbf29ce4, 0x84222325]);
    const [hi, lo] = fnv1a64('a');
    expect(((BigInt(hi) << 32n) | BigInt(lo)).toString(16)).toBe('af63dc4c8601ec8c');
  });
});

describe('jumpConsistentHash', () => {
  it('matches the paper reference values', () => {
    // From the reference implementation (Lamping and Veach): key 1..: small known buckets.
    expect(jumpConsistentHash(0, 0, 1)).toBe(0);
    expect(jumpConsistentHash(0, 0, 100)).toBe(0);
    for (let n = 1; n < 50; n++) {
      const b = jumpConsistentHash(0x12345678, 0x9abcdef0, n);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(n);
    }
  });

  it('spreads ids evenly over shards', () => {
    for (const shards of [3, 4, 16]) {
      const counts = new Array(shards).fill(0);
      for (const id of ids) counts[shardOf(id, shards)]++;
      const expected = ids.length / shards;
      for (const c of counts) expect(Math.abs(c - expected) / expected).toBeLessThan(0.1);
    }
  });

  it('moves only ~1/(n+1) of the ids, all to the new shard, when a shard is added', () => {
    for (const n of [1, 3, 7]) {
      let moved = 0;
      for (const id of ids) {
        const before = shardOf(id, n);
        const after = shardOf(id, n + 1);
        if (before !== after) {
          moved++;
          expect(after).toBe(n);
        }
      }
      const share = moved / ids.length;
      expect(Math.abs(share - 1 / (n + 1))).toBeLessThan(0.02);
    }
  });

  it('refuses a non-positive bucket count', () => {
    expect(() => jumpConsistentHash(1, 2, 0)).toThrow(RangeError);
  });
});
