// Issue 3 §5: a replica killed (or frozen) mid-query; the other replica answers, nothing hangs past the timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardedCollection } from '@ragwire/client';
import { gaussianMixture } from '@ragwire/datasets';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const N = 20_000;
const DIM = 64;
const TIMEOUT_MS = 3000;

describe('replicas', () => {
  const dirs = [tempDir('rep-a'), tempDir('rep-b'), tempDir('rep-c')];
  let a: ShardProcess, b: ShardProcess, c: ShardProcess;
  const data = gaussianMixture({ n: N, nQueries: 64, dim: DIM, clusters: 50, seed: 9 });
  const ids = Array.from({ length: N }, (_, i) => `r-${i}`);
  // 16 exact queries per call: a few ms of work, so calls are in flight when a replica dies.
  const batch = data.queries.subarray(0, 16 * DIM);

  beforeAll(async () => {
    [a, b, c] = (await Promise.all(dirs.map((d) => startShardProcess({ dataDir: d.path })))) as [ShardProcess, ShardProcess, ShardProcess];
    // Shard 0 on replicas a and b; shard 1 on c alone.
    const writer = new ShardedCollection({ shards: [[a.addresses[0]!, b.addresses[0]!], [c.addresses[0]!]], collection: 'docs' });
    await writer.createCollection({ dim: DIM, metric: 'l2', kind: 'flat', storage: 'f32' });
    await writer.upsert({ ids, vectors: data.base });
    await writer.close();
  });

  afterAll(async () => {
    killAll();
    for (const d of dirs) d.cleanup();
  });

  const collection = (partial: 'fail' | 'allow', hedgeAfterMs?: number) =>
    new ShardedCollection({
      shards: [[a.addresses[0]!, b.addresses[0]!], [c.addresses[0]!]],
      collection: 'docs',
      timeoutMs: TIMEOUT_MS,
      partial,
      ...(hedgeAfterMs !== undefined ? { hedgeAfterMs } : {}),
    });

  it('answers from the other replica when one is frozen (hedged after 50 ms)', async () => {
    const col = collection('fail', 50);
    const expected = await col.query({ vectors: batch, k: 10, options: { exact: true } });
    a.child.kill('SIGSTOP');
    try {
      for (let i = 0; i < 6; i++) {
        const t0 = performance.now();
        const r = await col.query({ vectors: batch, k: 10, options: { exact: true } });
        expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS);
        expect(r.ids).toEqual(expected.ids);
      }
    } finally {
      a.child.kill('SIGCONT');
    }
    await col.close();
  });

  it('answers every query from the surviving replica when one is killed mid-query', async () => {
    const col = collection('fail');
    const expected = await col.query({ vectors: batch, k: 10, options: { exact: true } });
    let stop = false;
    let answered = 0;
    let slowest = 0;
    const failures: unknown[] = [];
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const t0 = performance.now();
        try {
          const r = await col.query({ vectors: batch, k: 10, options: { exact: true } });
          expect(r.ids).toEqual(expected.ids);
          answered++;
        } catch (error) {
          failures.push(error);
        }
        slowest = Math.max(slowest, performance.now() - t0);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    const before = answered;
    await a.kill9();
    await new Promise((r) => setTimeout(r, 700));
    stop = true;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(before).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(before);
    expect(slowest).toBeLessThan(TIMEOUT_MS);
    await col.close();
  });

  it("names the missing shard with partial: 'allow', and rejects with 'fail', when a shard has no replica left", async () => {
    await c.kill9();
    const allow = collection('allow');
    const t0 = performance.now();
    const r = await allow.query({ vectors: batch, k: 10, options: { exact: true } });
    expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS);
    expect(r.partial).toBe(true);
    expect(r.missingShards).toEqual([1]);
    expect(r.ids.every((id) => id.startsWith('r-'))).toBe(true);
    const fail = collection('fail');
    await expect(fail.query({ vectors: batch, k: 10 })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_SHARD_UNAVAILABLE' });
    await Promise.all([allow.close(), fail.close()]);
  });
});
