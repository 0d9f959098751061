/** Starts the processes a proxy benchmark compares: simulator, proxy, bare pass-through, Portkey. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// The built binaries, as installed (`pnpm proxy` builds them first): what users run, with no transpiler in the process.
const SIM_CLI = fileURLToPath(new URL('../../../servers/vllm-sim/dist/cli.js', import.meta.url));
const PROXY_CLI = fileURLToPath(new URL('../../../servers/proxy/dist/cli.js', import.meta.url));
const PASSTHROUGH = fileURLToPath(new URL('./passthrough.mjs', import.meta.url));
const PORTKEY = fileURLToPath(new URL('../../node_modules/@portkey-ai/gateway/build/start-server.js', import.meta.url));

export interface Proc {
  child: ChildProcess;
  url: string;
  urls: string[];
  stop(): Promise<void>;
}

const running = new Set<Proc>();

/** Stops every process this module started (also on exit). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}
process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

function start(args: string[], ready: (line: string) => { url: string; urls?: string[] } | undefined, env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  if (!existsSync(args[0]!)) throw new Error(`${args[0]} is missing: build first (pnpm --filter @ragwire/vllm-sim --filter @ragwire/proxy run build)`);
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} not ready in 30 s: ${stderr}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const found = ready(line);
      if (!found) return;
      clearTimeout(timer);
      const proc: Proc = {
        child,
        url: found.url,
        urls: found.urls ?? [found.url],
        stop: async () => {
          running.delete(proc);
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(kill);
        },
      };
      child.removeAllListeners('exit');
      running.add(proc);
      resolve(proc);
    });
  });
}

function jsonLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function startSim(args: string[]): Promise<Proc> {
  return start([SIM_CLI, '--port', '0', ...args], (line) => {
    const j = jsonLine(line);
    if (j?.msg !== 'listening') return undefined;
    const urls = j.urls as string[];
    return { url: urls[0]!, urls };
  });
}

export function startProxy(args: string[]): Promise<Proc> {
  return start([PROXY_CLI, '--port', '0', '--log-level', 'info', ...args], (line) => {
    const j = jsonLine(line);
    return j?.msg === 'ragwire-proxy listening' ? { url: j.url as string } : undefined;
  });
}

export function startPassthrough(upstream: string): Promise<Proc> {
  return start([PASSTHROUGH, upstream], (line) => {
    const j = jsonLine(line);
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

/** @portkey-ai/gateway, headless; requests need the x-portkey-* headers from `portkeyHeaders`. */
export async function startPortkey(): Promise<Proc> {
  const port = await freePort();
  return start([PORTKEY, `--port=${port}`, '--headless'], (line) => (line.includes('Ready for connections') ? { url: `http://127.0.0.1:${port}` } : undefined), { NODE_ENV: 'production' });
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

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; 10 ms resolution). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
