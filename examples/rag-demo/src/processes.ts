// The demo's servers as real child processes: each prints one JSON "listening" line on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

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

/** Node flags that run a workspace CLI: a TypeScript source runs under tsx with the source condition. */
function nodeArgsFor(cli: string): string[] {
  return cli.endsWith('.ts') ? ['--conditions=ragwire-source', '--import', import.meta.resolve('tsx'), cli] : [cli];
}

/** Starts `node <cli> ...args` and resolves once it prints a JSON line whose `msg` is `listeningMsg`. */
export async function startServerProcess(name: string, cli: string, args: string[], listeningMsg: string, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgsFor(cli), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 16_384) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const early = (code: number | null, signal: string | null) => fail(new Error(`${name} exited (${code ?? signal}) before listening: ${stderr}`));
    child.once('exit', early);
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.msg === listeningMsg) {
          clearTimeout(timer);
          child.removeListener('exit', early);
          resolve(msg);
        }
      } catch {
        // not a log line
      }
    });
  });
  child.stdout!.resume();
  return {
    name,
    child,
    listening,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
