// ragwire-shard --device: a real child process serves a flat collection from an OpenCL or CUDA device,
// answers as a CPU server does, and says which device each collection uses (STATS, /metrics).
// A bad --device is refused at start with the field named.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { gaussianMixture } from '@ragwire/datasets';
import { devices } from '@ragwire/native';
import { REPO_ROOT, TS_NODE_ARGS, killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

afterAll(() => killAll());

const TARGETS = (['opencl', 'cuda'] as const).filter((k) => devices().some((d) => d.kind === k));
const DIM = 32;

async function served(server: ShardProcess, base: Float32Array, queries: Float32Array) {
  const client = new ShardClient(server.addresses[0]!);
  try {
    await client.request({ type: 'create', collection: 'docs', dim: DIM, metric: 'l2', kind: 'flat', storage: 'f32' });
    const ids = Array.from({ length: base.length / DIM }, (_, i) => `d${i}`);
    await client.request({ type: 'upsert', collection: 'docs', dim: DIM, ids, vectors: base });
    const single = await client.request({ type: 'query', collection: 'docs', dim: DIM, k: 10, vectors: queries.subarray(0, DIM) });
    const batch = await client.request({ type: 'query', collection: 'docs', dim: DIM, k: 10, vectors: queries });
    const { stats } = await client.request({ type: 'stats', collection: 'docs' });
    return { single, batch, stats };
  } finally {
    await client.close();
  }
}

describe('ragwire-shard --device', () => {
  it('refuses a device it does not know at start, naming the field', async () => {
    const dir = tempDir('shard-device-bad');
    const child = spawn(
      process.execPath,
      [...TS_NODE_ARGS, join(REPO_ROOT, 'servers/shard-server/src/cli.ts'), '--listen', 'tcp://127.0.0.1:0', '--data', dir.path, '--device', 'tpu'],
      { cwd: REPO_ROOT },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(stderr).toMatch(/shard server option "device"/);
    dir.cleanup();
  });

  for (const device of TARGETS) {
    it(`${device}: answers queries as a CPU server does and reports the device in STATS and /metrics`, async () => {
      const d = gaussianMixture({ n: 3000, nQueries: 64, dim: DIM, clusters: 12, spread: 1, seed: 11 });
      const dirs = [tempDir('shard-device'), tempDir('shard-cpu')];
      try {
        const cpuServer = await startShardProcess({ dataDir: dirs[1]!.path });
        const want = await served(cpuServer, d.base, d.queries);
        expect(await cpuServer.stop()).toBe(0);
        expect(want.stats).toMatchObject({ device: 'cpu', 'device.kind': 'cpu', 'device.searches': 0, 'cpu.searches': 2 });

        // 64 queries x 3,000 rows x 32 = 6.1M floats: above this threshold; one query is not.
        const server = await startShardProcess({
          dataDir: dirs[0]!.path,
          admin: true,
          extra: ['--device', device, '--device-min-work', String(8 * 3000 * DIM)],
        });
        const got = await served(server, d.base, d.queries);
        expect(got.single.ids).toEqual(want.single.ids);
        expect(got.batch.ids).toEqual(want.batch.ids);
        expect(got.stats).toMatchObject({ 'device.kind': device, 'device.searches': 1, 'cpu.searches': 1 });
        expect(String(got.stats.device)).not.toBe('cpu');
        const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
        expect(metrics).toContain(`ragwire_shard_collection_device{collection="docs",device="${String(got.stats.device)}",kind="${device}"} 1`);
        expect(metrics).toContain('ragwire_shard_collection_stat{collection="docs",stat="device.searches"} 1');
        expect(await server.stop()).toBe(0);
      } finally {
        for (const dir of dirs) dir.cleanup();
      }
    });
  }
});
