/** Starts the processes a proxy benchmark compares: simulator, proxy, bare pass-through, Portkey. */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { killAllProcesses, processCpuSeconds, startJsonProcess } from '@ragwire/processes';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// The built binaries, as installed (`pnpm proxy` builds them first): what users run, with no transpiler in the process.
const SIM_CLI = fileURLToPath(new URL('../../../servers/vllm-sim/dist/cli.js', import.meta.url));
const PROXY_CLI = fileURLToPath(new URL('../../../servers/proxy/dist/cli.js', import.meta.url));
const SHARD_CLI = fileURLToPath(new URL('../../../servers/shard-server/dist/cli.js', import.meta.url));
const PASSTHROUGH = fileURLToPath(new URL('./passthrough.mjs', import.meta.url));
const PORTKEY = fileURLToPath(new URL('../../node_modules/@portkey-ai/gateway/build/start-server.js', import.meta.url));

export interface Proc {
  child: ChildProcess;
  url: string;
  urls: string[];
  stop(): Promise<void>;
}

/** Kills every process this module started that is still running (they are also killed on exit). */
export async function stopAll(): Promise<void> {
  killAllProcesses();
}

type Ready = (json: Record<string, unknown> | undefined, line: string) => { url: string; urls?: string[] } | undefined;

async function start(args: string[], ready: Ready, env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  if (!existsSync(args[0]!)) throw new Error(`${args[0]} is missing: build first (pnpm --filter @ragwire/vllm-sim --filter @ragwire/proxy run build)`);
  let found: { url: string; urls?: string[] } | undefined;
  const p = await startJsonProcess({ name: args.join(' '), args, cwd: ROOT, env, ready: (json, line) => (found = ready(json, line)) !== undefined });
  return { child: p.child, url: found!.url, urls: found!.urls ?? [found!.url], stop: () => p.stop(3000) };
}

export function startSim(args: string[]): Promise<Proc> {
  return start([SIM_CLI, '--port', '0', ...args], (j) => {
    if (j?.msg !== 'listening') return undefined;
    const urls = j.urls as string[];
    return { url: urls[0]!, urls };
  });
}

export function startProxy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  return start(
    [PROXY_CLI, '--port', '0', '--log-level', 'info', ...args],
    (j) => {
      return j?.msg === 'ragwire-proxy listening' ? { url: j.url as string } : undefined;
    },
    env,
  );
}

export function startPassthrough(upstream: string): Promise<Proc> {
  return start([PASSTHROUGH, upstream], (j) => {
    return j?.msg === 'listening' ? { url: j.url as string } : undefined;
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A shard server on loopback TCP over `dataDir`; `url` is its tcp:// address. */
export function startShard(dataDir: string): Promise<Proc> {
  return start([SHARD_CLI, '--listen', 'tcp://127.0.0.1:0', '--data', dataDir, '--log-level', 'warn'], (j) => {
    const addresses = j?.addresses as string[] | undefined;
    return j?.msg === 'ragwire-shard listening' && addresses ? { url: addresses[0]! } : undefined;
  });
}

/** @portkey-ai/gateway, headless; requests need the x-portkey-* headers from `portkeyHeaders`. */
export async function startPortkey(): Promise<Proc> {
  const port = await freePort();
  return start(
    [PORTKEY, `--port=${port}`, '--headless'],
    (_j, line) => (line.includes('Ready for connections') ? { url: `http://127.0.0.1:${port}` } : undefined),
    { NODE_ENV: 'production' },
  );
}

export function portkeyHeaders(upstream: string): Record<string, string> {
  return { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream}/v1`, authorization: 'Bearer sk-unused' };
}

/** Reads one series (summed over label sets) from a Prometheus endpoint. */
export async function scrape(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

/** CPU seconds (user + system) a process has used so far. */
export const cpuSeconds = processCpuSeconds;
