import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CollectionHandle, checkK } from './collection-handle';
import { closeEmbeddedStores } from './embedded-transport';
import { ShardedCollection, isShardedCollection } from './sharded-collection';

const dir = mkdtempSync(join(tmpdir(), 'ragwire-collection-handle-'));

afterAll(async () => {
  await closeEmbeddedStores();
  rmSync(dir, { recursive: true, force: true });
});

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('CollectionHandle', () => {
  it('checks efSearch, batchSize and k against the protocol limits at construction', () => {
    const at = (o: object) => codeOf(() => new CollectionHandle({ path: dir, ...o }, 'test'));
    expect(at({ efSearch: 0 })).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(at({ efSearch: 1.5 })).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(at({ efSearch: 10_001 })).toBe('RAGWIRE_ERR_LIMIT');
    expect(at({ batchSize: 0 })).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(at({ batchSize: 16_385 })).toBe('RAGWIRE_ERR_LIMIT');
    expect(at({ efSearch: 10_000, batchSize: 16_384 })).toBeUndefined();
    expect(() => new CollectionHandle({ path: dir, efSearch: 0 }, 'test')).toThrow('efSearch must be an integer of at least 1, got 0');
    expect(codeOf(() => checkK(0))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => checkK(10_001))).toBe('RAGWIRE_ERR_LIMIT');
    expect(() => checkK(-1, 'similarityTopK')).toThrow('similarityTopK must be an integer of at least 1, got -1');
  });

  it('needs exactly one of path, shards and client, and refuses a client that is no ShardedCollection', () => {
    expect(() => new CollectionHandle({}, 'test')).toThrow(
      'test needs exactly one of path (embedded), shards (remote shard servers) or client (a ShardedCollection); got none',
    );
    expect(() => new CollectionHandle({ path: dir, shards: [['tcp://127.0.0.1:1']] }, 'test')).toThrow(/got path and shards/);
    const lookalike = { collection: 'docs', query: () => undefined, upsert: () => undefined } as unknown as ShardedCollection;
    expect(codeOf(() => new CollectionHandle({ client: lookalike }, 'test'))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
  });

  it('reads a missing collection as empty, creates it on the first write, and refuses another dimension', async () => {
    const handle = new CollectionHandle({ path: dir, collection: 'lazy', metric: 'l2', kind: 'flat', batchSize: 2 }, 'test');
    expect(await handle.describe()).toBeUndefined();
    const none = await handle.query({ vectors: Float32Array.of(1, 0, 0), k: 3, options: { withPayload: true } });
    expect(none).toMatchObject({ ids: [], counts: Uint32Array.of(0), payloads: [] });
    await handle.delete({ ids: ['a'] });
    await expect(
      handle.upsert(
        ['a', 'b'],
        [
          [1, 0, 0],
          [0, 1],
        ],
        [{ text: 'a' }, { text: 'b' }],
      ),
    ).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' });
    expect(await handle.describe()).toBeUndefined();
    const rows = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 0],
      [0, 1, 1],
    ];
    await handle.upsert(
      rows.map((_, i) => `d${i}`),
      rows,
      rows.map((_, i) => ({ text: `doc ${i}`, metadata: { n: i } })),
    );
    expect(await handle.describe()).toMatchObject({ dim: 3, metric: 'l2', kind: 'flat', count: 5 });
    const hits = await handle.query({ vectors: Float32Array.of(0, 0, 1), k: 2, options: { withPayload: true } });
    expect(hits.ids[0]).toBe('d2');
    expect(hits.payloads?.[0]).toMatchObject({ text: 'doc 2' });
    const odd = await handle.query({ vectors: Float32Array.of(0, 0, 1), k: 5 }, (id) => id === 'd1' || id === 'd3');
    expect(odd.ids.sort()).toEqual(['d1', 'd3']);
    await expect(handle.ensure(4)).rejects.toMatchObject({ code: 'RAGWIRE_ERR_DIM_MISMATCH' });
    await handle.delete({ filter: { must: [{ key: 'n', eq: 0 }] } });
    await handle.delete({ ids: ['d1'] });
    expect((await handle.describe())?.count).toBe(3);
    await handle.close();
  });

  it('accepts a ShardedCollection of a second, separately loaded copy of the module, and leaves it open', async () => {
    // The query makes the module loader evaluate sharded-collection.ts again: a second class, as
    // when an app ends up with two copies of @ragwire/client.
    const second = (await import(new URL('./sharded-collection.ts?second-copy', import.meta.url).href)) as typeof import('./sharded-collection');
    expect(second.ShardedCollection).not.toBe(ShardedCollection);
    const injected = new second.ShardedCollection({ shards: [[`embedded://${encodeURI(dir)}`]], collection: 'second' });
    expect(injected instanceof ShardedCollection).toBe(false);
    expect(isShardedCollection(injected)).toBe(true);
    expect(second.isShardedCollection(new ShardedCollection({ shards: [['tcp://127.0.0.1:1']], collection: 'x' }))).toBe(true);
    const handle = new CollectionHandle({ client: injected }, 'test');
    expect(handle.collection).toBe(injected);
    await handle.upsert(
      ['x', 'y'],
      [
        [1, 0],
        [0, 1],
      ],
      [{ text: 'x' }, { text: 'y' }],
    );
    expect((await handle.query({ vectors: Float32Array.of(0, 1), k: 1 })).ids).toEqual(['y']);
    await handle.close();
    expect((await injected.describe()).count).toBe(2);
    await injected.close();
  });
});
