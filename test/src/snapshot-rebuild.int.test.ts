// Issue 11: a snapshot that is corrupt or missing is rebuilt from LMDB, and says so: a warning with
// the reason (the store's process warning when embedded, the server's log) and a /metrics counter.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { openStore } from '@ragwire/store';
import { metricValue } from './peer-memory';
import { killAll, startShardProcess, tempDir } from './processes';

const ADMIN = 'admin-token-0001';
const DIM = 8;

function snapshotFile(dataDir: string): string {
  const files = readdirSync(join(dataDir, 'snapshots')).filter((f) => f.endsWith('.snap'));
  expect(files).toHaveLength(1);
  return join(dataDir, 'snapshots', files[0]!);
}

async function restartAndRead(dataDir: string): Promise<{ metrics: string; count: number }> {
  const server = await startShardProcess({ dataDir, admin: true, tokens: [ADMIN] });
  const client = new ShardClient(server.addresses[0]!, { token: ADMIN });
  const described = await client.request({ type: 'describe', collection: 'docs' });
  const metrics = await (await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
  await client.close();
  expect(await server.stop()).toBe(0);
  return { metrics, count: described.collections[0]!.count };
}

describe('a rebuilt snapshot', () => {
  const dir = tempDir('rebuild');
  afterAll(() => {
    killAll();
    dir.cleanup();
  });

  it('is logged and counted by a shard server, with nothing lost', async () => {
    const dataDir = join(dir.path, 'shard');
    const server = await startShardProcess({ dataDir, tokens: [ADMIN] });
    const client = new ShardClient(server.addresses[0]!, { token: ADMIN });
    await client.createCollection({ collection: 'docs', dim: DIM, metric: 'l2', kind: 'hnsw', storage: 'f32' });
    await client.upsert({
      collection: 'docs',
      dim: DIM,
      ids: Array.from({ length: 100 }, (_, i) => `d${i}`),
      vectors: Float32Array.from({ length: 100 * DIM }, (_, i) => Math.sin(i)),
    });
    await client.close();
    expect(await server.stop()).toBe(0); // a clean stop writes the snapshot

    const clean = await restartAndRead(dataDir);
    expect(clean.count).toBe(100);
    expect(clean.metrics).not.toContain('ragwire_shard_snapshot_rebuilds_total{');

    const file = snapshotFile(dataDir);
    const bytes = readFileSync(file);
    for (let i = bytes.length >> 1; i < (bytes.length >> 1) + 64; i++) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(file, bytes);
    const corrupt = await restartAndRead(dataDir);
    expect(corrupt.count).toBe(100);
    expect(metricValue(corrupt.metrics, 'ragwire_shard_snapshot_rebuilds_total{collection="docs",reason="corrupt"}')).toBe(1);

    rmSync(snapshotFile(dataDir)); // the last stop wrote a good one again
    const missing = await restartAndRead(dataDir);
    expect(missing.count).toBe(100);
    expect(metricValue(missing.metrics, 'ragwire_shard_snapshot_rebuilds_total{collection="docs",reason="missing"}')).toBe(1);
  });

  it('raises a process warning with the reason in an embedded store', async () => {
    const path = join(dir.path, 'embedded');
    let store = await openStore({ path });
    await store.createCollection({ name: 'docs', dim: DIM, metric: 'l2' });
    await store.collection('docs').upsert({ ids: ['a', 'b'], vectors: new Float32Array(2 * DIM).fill(1) });
    await store.close();
    writeFileSync(snapshotFile(path), 'not a snapshot');
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      store = await openStore({ path });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(store.collection('docs').info().count).toBe(2);
    await store.close();
    const ours = warnings.filter((w) => (w as Error & { code?: string }).code === 'RAGWIRE_SNAPSHOT_REBUILT');
    expect(ours).toHaveLength(1);
    expect(ours[0]!.message).toMatch(/collection docs: index rebuilt from LMDB \(corrupt: .+; 2 documents\)/);
  });
});
