// Starting and stopping real ragwire processes for the integration tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARD_CLI = join(REPO_ROOT, 'servers/shard-server/src/cli.ts');

/** Node arguments that run a TypeScript entry point of the workspace from source. */
export const TS_NODE_ARGS = ['--conditions=ragwire-source', '--import', 'tsx'];

export interface ShardProcess {
  readonly child: ChildProcess;
  readonly addresses: string[];
  readonly adminUrl: string | undefined;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  kill9(): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | string>;
}

export interface ShardStartOptions {
  dataDir: string;
  listen?: string[];
  admin?: boolean;
  tokens?: string[];
  extra?: string[];
}

const live = new Set<ChildProcess>();

/** Starts `ragwire-shard` as a child process on an ephemeral port and waits for its "listening" line. */
export async function startShardProcess(options: ShardStartOptions): Promise<ShardProcess> {
  const args = [...TS_NODE_ARGS, SHARD_CLI, '--data', options.dataDir, '--log-level', 'info'];
  for (const l of options.listen ?? ['tcp://127.0.0.1:0']) args.push('--listen', l);
  if (options.admin) args.push('--admin', '127.0.0.1:0');
  for (const t of options.tokens ?? []) args.push('--token', t);
  args.push(...(options.extra ?? []));
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? -1);
    });
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const listening = await new Promise<{ addresses: string[]; admin?: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`ragwire-shard did not start within 30 s: ${stderr}`)), 30_000);
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { msg?: string; addresses?: string[]; admin?: string };
        if (msg.msg === 'ragwire-shard listening') {
          clearTimeout(timer);
          resolve({ addresses: msg.addresses!, ...(msg.admin ? { admin: msg.admin } : {}) });
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ragwire-shard exited (${code}) before listening: ${stderr}`));
    });
  });
  return {
    child,
    addresses: listening.addresses,
    adminUrl: listening.admin,
    exited,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Kills every child these helpers started and that is still running (afterAll hooks). */
export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
}

/** A fresh temporary directory, removed by `cleanup()`. */
export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), `ragwire-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
