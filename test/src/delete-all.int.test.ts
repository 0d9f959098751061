// Issue 11: an empty delete filter is refused (it would delete everything by accident); deleting
// everything takes { all: true }. The same answer embedded and from two shard servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardedCollection } from '@ragwire/client';
import { isRagwireError } from '@ragwire/protocol';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const DIM = 4;

describe('delete with an empty filter or everything', () => {
  const dirs = [tempDir('del0'), tempDir('del1'), tempDir('del-embedded')];
  let shards: ShardProcess[] = [];
  let targets: [string, ShardedCollection][] = [];

  beforeAll(async () => {
    shards = await Promise.all([0, 1].map((i) => startShardProcess({ dataDir: dirs[i]!.path })));
    targets = [
      ['embedded', new ShardedCollection({ shards: [[`embedded://${dirs[2]!.path}`]], collection: 'docs' })],
      ['2 shards', new ShardedCollection({ shards: shards.map((s) => [s.addresses[0]!]), collection: 'docs' })],
    ];
    for (const [, c] of targets) {
      await c.createCollection({ dim: DIM, metric: 'l2', kind: 'flat', storage: 'f32' });
      await c.upsert({
        ids: Array.from({ length: 20 }, (_, i) => `d${i}`),
        vectors: new Float32Array(20 * DIM).fill(1),
        payloads: Array.from({ length: 20 }, (_, i) => ({ metadata: { n: i } })),
      });
    }
  });

  afterAll(async () => {
    for (const [, c] of targets) await c.close();
    for (const s of shards) await s.stop();
    killAll();
    for (const d of dirs) d.cleanup();
  });

  it('refuses an empty filter with RAGWIRE_ERR_INVALID_FILTER and deletes nothing', async () => {
    for (const [name, c] of targets) {
      for (const filter of [{}, { must: [] }, { must: [], should: [], must_not: [] }]) {
        const error = await c.delete({ filter }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isRagwireError(error) && error.code, name).toBe('RAGWIRE_ERR_INVALID_FILTER');
      }
      expect((await c.describe()).count, name).toBe(20);
    }
  });

  it('deletes by a filter, then everything with { all: true }', async () => {
    for (const [name, c] of targets) {
      expect((await c.delete({ filter: { must: [{ key: 'n', range: { lt: 5 } }] } })).deleted, name).toBe(5);
      expect((await c.delete({ all: true })).deleted, name).toBe(15);
      expect((await c.describe()).count, name).toBe(0);
    }
  });
});
