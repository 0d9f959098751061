// Hashing a document id: FNV-1a 64 of its UTF-8 bytes, then jump consistent hash. The client routes ids to
// shards with it, a fleet to virtual buckets: one definition, here.

const encoder = new TextEncoder();

/**
 * FNV-1a 64-bit hash of the UTF-8 encoding of `id`, as two unsigned 32-bit halves [hi, lo].
 * Stable across processes, platforms and versions: it decides which shard owns a document.
 */
export function fnv1a64(id: string): [hi: number, lo: number] {
  // offset basis 0xcbf29ce484222325
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const mix = (byte: number): void => {
    lo = (lo ^ byte) >>> 0;
    // (hi:lo) * 0x100000001b3 mod 2^64 = (hi:lo) * 0x1b3 + (lo << 40)
    const loTimes = lo * 0x1b3; // < 2^41: exact in a double
    const carry = Math.floor(loTimes / 4294967296);
    const newLo = loTimes >>> 0;
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
    lo = newLo;
  };
  let ascii = true;
  for (let i = 0; i < id.length; i++) {
    if (id.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    for (let i = 0; i < id.length; i++) mix(id.charCodeAt(i));
  } else {
    for (const byte of encoder.encode(id)) mix(byte);
  }
  return [hi, lo];
}

const MASK64 = (1n << 64n) - 1n;
const LCG = 2862933555777941757n;

/**
 * Jump consistent hash (Lamping and Veach, 2014): the bucket in [0, buckets) of a 64-bit key.
 * Going from n to n + 1 buckets moves only about 1/(n + 1) of the keys, all into the new bucket.
 */
export function jumpConsistentHash(hi: number, lo: number, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
  let key = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    key = (key * LCG + 1n) & MASK64;
    j = Math.floor((b + 1) * (2147483648 / (Number(key >> 33n) + 1)));
  }
  return b;
}
