// A shard process killed (SIGKILL) while its client waits on a long query, over any listener: the
// client gets an answer or a typed error well before its timeout, never a hang, and later calls fail fast.
import { expect } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { isRagwireError } from '@ragwire/protocol';
import { sleep } from './peer-memory';
import { startShardProcess, tempDir } from './processes';

export async function expectKilledMidRequestIsTyped(listen: string, dirName: string): Promise<void> {
  const victimDir = tempDir(dirName);
  const victim = await startShardProcess({ dataDir: victimDir.path, listen: [listen] });
  const c = new ShardClient(victim.addresses[0]!, { timeoutMs: 10_000, backoff: { initialMs: 50, maxMs: 100 } });
  await c.createCollection({ collection: 'big', dim: 64, metric: 'l2', kind: 'flat', storage: 'f32' });
  await c.upsert({
    collection: 'big',
    dim: 64,
    ids: Array.from({ length: 20_000 }, (_, i) => `b${i}`),
    vectors: new Float32Array(20_000 * 64).map(Math.random),
  });
  const started = Date.now();
  const pending = c.query({ collection: 'big', dim: 64, k: 10, vectors: new Float32Array(256 * 64).map(Math.random), options: { exact: true } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  await sleep(5);
  await victim.kill9();
  const error = await pending;
  // Answered before the kill, or failed with a typed error well before the timeout.
  if (error !== undefined) {
    expect(isRagwireError(error) ? error.code : String(error)).toMatch(/RAGWIRE_ERR_SHARD_UNAVAILABLE|RAGWIRE_ERR_SHARD_TIMEOUT/);
    expect(Date.now() - started).toBeLessThan(5000);
  }
  await expect(c.query({ collection: 'big', dim: 64, k: 1, vectors: new Float32Array(64) })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_SHARD_UNAVAILABLE' });
  await c.close();
  victimDir.cleanup();
}
