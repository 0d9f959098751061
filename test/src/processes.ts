// Starting and stopping real ragwire processes for the integration tests.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startJsonProcess } from '@ragwire/processes';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARD_CLI = join(REPO_ROOT, 'servers/shard-server/src/cli.ts');

/**
 * The shard server's TCP listeners: node:net's (tcp://) and the native data plane's (native+tcp://,
 * announced as tcp://). Suites about what a server does over TCP run over both.
 */
export const TCP_SCHEMES = ['tcp', 'native+tcp'] as const;

/** Node arguments that run a TypeScript entry point of the workspace from source. */
export const TS_NODE_ARGS = ['--conditions=ragwire-source', '--import', 'tsx'];

export interface ShardProcess {
  readonly child: ChildProcess;
  readonly addresses: string[];
  readonly adminUrl: string | undefined;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  kill9(): Promise<void>;
  /** SIGTERM (SIGKILL after STOP_GRACE_MS), then the exit code. */
  stop(): Promise<number | string>;
}

export interface ShardStartOptions {
  dataDir: string;
  listen?: string[];
  admin?: boolean;
  tokens?: string[];
  extra?: string[];
}

/** How long a SIGTERM'd shard server may take to close before it is killed. */
const STOP_GRACE_MS = 20_000;

/** Starts `ragwire-shard` as a child process on an ephemeral port and waits for its "listening" line. */
export async function startShardProcess(options: ShardStartOptions): Promise<ShardProcess> {
  const args = [...TS_NODE_ARGS, SHARD_CLI, '--data', options.dataDir, '--log-level', 'info'];
  for (const l of options.listen ?? ['tcp://127.0.0.1:0']) args.push('--listen', l);
  if (options.admin) args.push('--admin', '127.0.0.1:0');
  for (const t of options.tokens ?? []) args.push('--token', t);
  args.push(...(options.extra ?? []));
  const p = await startJsonProcess({ name: 'ragwire-shard', args, cwd: REPO_ROOT, ready: (json) => json?.msg === 'ragwire-shard listening' });
  const admin = p.announcement.admin as string | undefined;
  return {
    child: p.child,
    addresses: p.announcement.addresses as string[],
    adminUrl: admin,
    exited: p.exited,
    kill9: p.kill9,
    async stop() {
      // A shard server snapshots its collections as it closes, which takes seconds on a loaded machine.
      await p.stop(STOP_GRACE_MS);
      return p.exited;
    },
  };
}

/** Kills every child these helpers started and that is still running (afterAll hooks). */
export { killAllProcesses as killAll } from '@ragwire/processes';

/** A fresh temporary directory, removed by `cleanup()`. */
export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), `ragwire-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
