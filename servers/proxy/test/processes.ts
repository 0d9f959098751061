import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SIM_CLI = fileURLToPath(new URL('../../vllm-sim/src/cli.ts', import.meta.url));
const PROXY_CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

const children = new Set<ChildProcess>();
// Never leave a server behind, even when a test fails before its teardown.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface Started {
  child: ChildProcess;
  /** The JSON log line that announced the listener. */
  announcement: Record<string, unknown>;
  stderr: () => string;
  stop(): Promise<void>;
}

/**
 * Runs a TypeScript CLI as a real process (through tsx) and resolves when it
 * logs a JSON line matching `ready`; rejects if it exits first.
 */
export function startCli(script: string, args: string[], ready: (line: Record<string, unknown>) => boolean, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null) => reject(new Error(`${script} exited with ${code} before it was ready: ${stderr}`));
    child.once('exit', onExit);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} was not ready within 20 s: ${stderr}`));
    }, 20_000);
    lines.on('line', (line) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (ready(parsed)) {
        child.off('exit', onExit);
        clearTimeout(timer);
        resolve({ child, announcement: parsed, stderr: () => stderr, stop });
      }
    });
  });
}

export interface SimProcess extends Started {
  urls: string[];
}

/** Starts `ragwire-vllm-sim` on ephemeral ports with fast test timings unless overridden. */
export async function startSimProcess(args: string[] = []): Promise<SimProcess> {
  const fast = ['--step-base-ms', '1', '--step-per-seq-ms', '0.01', '--prefill-per-token-ms', '0.001', '--frontend-per-request-ms', '0', '--embedding-dim', '64'];
  const started = await startCli(SIM_CLI, ['--port', '0', ...fast, ...args], (l) => l.msg === 'listening');
  return { ...started, urls: started.announcement.urls as string[] };
}

export interface ProxyProcess extends Started {
  url: string;
}

export async function startProxyProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProxyProcess> {
  const started = await startCli(PROXY_CLI, ['--port', '0', ...args], (l) => l.msg === 'ragwire-proxy listening', env);
  return { ...started, url: started.announcement.url as string };
}

/** Runs the proxy CLI expecting it to exit; resolves with its exit code and stderr. */
export function runProxyCliToExit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', PROXY_CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

/** Reads one series (summed over label sets) from a Prometheus text endpoint. */
export async function scrape(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
