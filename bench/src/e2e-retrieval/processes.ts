// Child processes of the e2e-retrieval benchmark.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllProcesses, nodeArgsFor, startJsonProcess } from '@ragwire/processes';

export { processCpuSeconds } from '@ragwire/processes';

const here = dirname(fileURLToPath(import.meta.url));

/** Starts a TypeScript entry point of this folder and resolves with the JSON of its first stdout line. */
export async function startChild<T>(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<T & { child: ChildProcess }> {
  const p = await startJsonProcess({
    name: file,
    args: [...nodeArgsFor(join(here, file)), ...args],
    env,
    ready: (json) => json !== undefined,
    stderr: 'inherit',
    timeoutMs: 600_000,
  });
  return { ...(p.announcement as T), child: p.child };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export function killChildren(): void {
  killAllProcesses();
}

/** Pins every thread of process `pid` (and the threads it starts later) to one core (taskset). */
export function pinToCore(pid: number, core: number): void {
  execFileSync('taskset', ['-apc', String(core), String(pid)], { stdio: 'ignore' });
}
