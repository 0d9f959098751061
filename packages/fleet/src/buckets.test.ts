import { describe, expect, it } from 'vitest';
import { fnv1a64, jumpConsistentHash } from '@ragwire/protocol';
import { EVERY_BUCKET, bucketOf, bucketOfSubject, bucketSubject, collectionToken, streamName } from './buckets';
import { bucketsOfMember, evenShardMap } from './catalog';
import { bucketSetKey } from './snapshots';

describe('buckets', () => {
  it("hash ids with the protocol's jump hash, the same on every writer", () => {
    const [hi, lo] = fnv1a64('doc-42');
    expect(bucketOf('doc-42', 1024)).toBe(jumpConsistentHash(hi, lo, 1024));
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[bucketOf(`id-${i}`, 16)]!++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('name subjects and streams so that a dotted collection stays one token', () => {
    expect(collectionToken('a.b-c_d')).toBe('a=2Eb-c_d');
    expect(streamName('ragwire', 'a.b')).toBe('RAGWIRE_a=2Eb');
    expect(bucketSubject('ragwire', 'a.b', 7)).toBe('ragwire.a=2Eb.7');
    expect(bucketOfSubject(bucketSubject('ragwire', 'a.b', 7))).toBe(7);
    expect(bucketOfSubject(bucketSubject('ragwire', 'a.b', EVERY_BUCKET))).toBe(EVERY_BUCKET);
    expect(() => bucketOfSubject('ragwire.a.x')).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }));
  });

  it('spread buckets evenly over shards; replicas of a shard hold the same buckets and share a snapshot key', () => {
    const map = evenShardMap(1024, [
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
    const sizes = map.shards.map((_, s) => map.owner.filter((o) => o === s).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(bucketsOfMember(map, 'a')).toEqual(bucketsOfMember(map, 'b'));
    expect(bucketSetKey(bucketsOfMember(map, 'a'))).toBe(bucketSetKey(bucketsOfMember(map, 'b')));
    expect(bucketSetKey(bucketsOfMember(map, 'a'))).not.toBe(bucketSetKey(bucketsOfMember(map, 'c')));
    expect(bucketsOfMember(map, 'zz').size).toBe(0);
    expect(() => evenShardMap(16, [[]])).toThrow(expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' }));
  });
});
