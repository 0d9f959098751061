// A shard server child process on an ephemeral loopback port and a temp data directory, for the fleet benchmarks.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeArgsFor, startJsonProcess } from '@ragwire/processes';

const SHARD_CLI = join(dirname(fileURLToPath(import.meta.url)), '../../../servers/shard-server/src/cli.ts');

export async function startShard(extra: string[]): Promise<{ url: string; stop(): Promise<void>; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ragwire-bench-fleet-'));
  const p = await startJsonProcess({
    name: 'ragwire-shard',
    args: [...nodeArgsFor(SHARD_CLI), '--data', dir, '--listen', 'tcp://127.0.0.1:0', '--log-level', 'warn', ...extra],
    ready: (json) => json?.msg === 'ragwire-shard listening',
  });
  return { url: (p.announcement.addresses as string[])[0]!, dir, stop: () => p.stop() };
}
