// The demo's servers as real child processes: each prints one JSON "listening" line on stdout.
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeArgsFor, startJsonProcess } from '@ragwire/processes';

export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The parsed "listening" line. */
  readonly listening: Record<string, unknown>;
  /** SIGTERM, then wait for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * The path of a workspace package's CLI next to its resolved entry point: `src/cli.ts` when this
 * process runs from source (the `ragwire-source` condition), `dist/cli.js` when built.
 */
export function cliOf(pkg: string): string {
  const entry = fileURLToPath(import.meta.resolve(pkg));
  return join(dirname(entry), entry.endsWith('.ts') ? 'cli.ts' : 'cli.js');
}

/** Starts `node <cli> ...args` and resolves once it prints a JSON line whose `msg` is `listeningMsg`. */
export async function startServerProcess(name: string, cli: string, args: string[], listeningMsg: string, timeoutMs = 30_000): Promise<ServerProcess> {
  const p = await startJsonProcess({ name, args: [...nodeArgsFor(cli), ...args], ready: (json) => json?.msg === listeningMsg, timeoutMs });
  return { name, child: p.child, listening: p.announcement, stop: () => p.stop() };
}
