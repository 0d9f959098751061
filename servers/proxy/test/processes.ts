import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeArgsFor, startJsonProcess, type JsonProcess } from '@ragwire/processes';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SIM_CLI = fileURLToPath(new URL('../../vllm-sim/src/cli.ts', import.meta.url));
const PROXY_CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const SHARD_CLI = fileURLToPath(new URL('../../shard-server/src/cli.ts', import.meta.url));

export type Started = JsonProcess;

/** Runs a TypeScript CLI of the workspace as a real process and resolves when it logs a JSON line matching `ready`. */
function startCli(script: string, args: string[], ready: (line: Record<string, unknown>) => boolean, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  return startJsonProcess({
    name: script,
    args: [...nodeArgsFor(script), ...args],
    ready: (json) => json !== undefined && ready(json),
    env,
    cwd: ROOT,
    timeoutMs: 20_000,
  });
}

export interface SimProcess extends Started {
  urls: string[];
}

/** Starts `ragwire-vllm-sim` on ephemeral ports with fast test timings unless overridden. */
export async function startSimProcess(args: string[] = []): Promise<SimProcess> {
  const fast = [
    '--step-base-ms',
    '1',
    '--step-per-seq-ms',
    '0.01',
    '--prefill-per-token-ms',
    '0.001',
    '--frontend-per-request-ms',
    '0',
    '--embedding-dim',
    '64',
  ];
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

export interface ShardProcess extends Started {
  /** Its tcp:// address. */
  url: string;
}

/** Starts `ragwire-shard` on an ephemeral loopback TCP port over `dataDir`. */
export async function startShardProcess(dataDir: string, args: string[] = []): Promise<ShardProcess> {
  const started = await startCli(
    SHARD_CLI,
    ['--listen', 'tcp://127.0.0.1:0', '--data', dataDir, '--log-level', 'warn', ...args],
    (l) => l.msg === 'ragwire-shard listening',
  );
  return { ...started, url: (started.announcement.addresses as string[])[0]! };
}

/** Runs the proxy CLI expecting it to exit; resolves with its exit code and stderr. */
export function runProxyCliToExit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...nodeArgsFor(PROXY_CLI), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
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
