import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process that announced itself with a line on stdout. */
export interface JsonProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The announcing line, parsed when it is JSON (else `{ line }`). */
  readonly announcement: Record<string, unknown>;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** What the process wrote to stderr so far (the last 16 KiB), for error messages. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL; resolves once the process is gone. */
  kill9(): Promise<void>;
}

export interface JsonProcessOptions {
  /** Used in error messages. */
  name: string;
  /** Arguments to `node` (see `nodeArgsFor`). */
  args: string[];
  /** Whether a stdout line announces readiness: `json` is the line parsed, when it is JSON. */
  ready: (json: Record<string, unknown> | undefined, line: string) => boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default 30 s. */
  timeoutMs?: number;
  /** `keep` (default): the last 16 KiB are kept for error messages; `inherit`: written through to this process's stderr. */
  stderr?: 'keep' | 'inherit';
}

const STDERR_KEPT = 16_384;
const running = new Set<ChildProcess>();
let exitHook = false;

/** Kills every process started here that is still running (for afterAll hooks). */
export function killAllProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Node arguments that run `script`: a TypeScript source under tsx with the workspace's source condition. */
export function nodeArgsFor(script: string): string[] {
  return script.endsWith('.ts') ? ['--conditions=ragwire-source', '--import', import.meta.resolve('tsx'), script] : [script];
}

/**
 * Starts `node ...args` and resolves once a stdout line satisfies `ready`;
 * rejects if the process exits first or is not ready within the timeout
 * (then it is killed). Every process started here is killed when this
 * process exits, so a failed test never leaves a server behind.
 */
export function startJsonProcess(options: JsonProcessOptions): Promise<JsonProcess> {
  const { name, timeoutMs = 30_000 } = options;
  if (!exitHook) {
    exitHook = true;
    process.once('exit', killAllProcesses);
  }
  const inherit = options.stderr === 'inherit';
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', inherit ? 'inherit' : 'pipe'],
  });
  running.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    });
  });
  let stderr = inherit ? "(written to this process's stderr)" : '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_KEPT);
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async (graceMs = 5_000) => {
    if (gone()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const kill9 = async () => {
    if (!gone()) child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      lines.close();
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`${name} was not ready within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    void exited.then((code) => fail(new Error(`${name} exited (${code}) before it was ready: ${stderr}`)));
    lines.on('line', (line) => {
      if (settled) return;
      let json: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        // not a JSON line
      }
      if (!options.ready(json, line)) return;
      settled = true;
      clearTimeout(timer);
      lines.close();
      child.stdout!.resume(); // keep draining: a full pipe would block the child
      resolve({ name, child, announcement: json ?? { line }, exited, stderr: () => stderr, stop, kill9 });
    });
  });
}
