// Real nats-server processes (JetStream on) for the fleet's tests and benchmarks: one node or a 3-node cluster on
// 127.0.0.1, ephemeral ports, a temporary store directory each, killed when this process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const NATS_SERVER = process.env.NATS_SERVER ?? 'nats-server';
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** A port free right now on 127.0.0.1 (a cluster's route ports must be known before any node starts). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface NatsNode {
  readonly url: string;
  readonly name: string;
  readonly storeDir: string;
  /** SIGKILL, then resolves once the process is gone. */
  kill9(): Promise<void>;
  /** Starts the node again on the same ports and store. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface NodeSpec {
  name: string;
  port: number;
  clusterPort?: number;
  routes?: number[];
  storeDir: string;
}

function launch(spec: NodeSpec): Promise<ChildProcess> {
  const args = ['-a', '127.0.0.1', '-p', String(spec.port), '-js', '-sd', spec.storeDir, '--server_name', spec.name];
  if (spec.clusterPort !== undefined) {
    args.push('--cluster_name', 'ragwire-test', '--cluster', `nats://127.0.0.1:${spec.clusterPort}`);
    args.push('--routes', spec.routes!.map((p) => `nats://127.0.0.1:${p}`).join(','));
  }
  const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let log = '';
    let ready = false;
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`nats-server ${spec.name} not ready in 20 s:\n${log}`))), 20_000);
    child.once('error', (e) => (clearTimeout(timer), reject(new Error(`cannot start ${NATS_SERVER} (install nats-server or set NATS_SERVER): ${e.message}`))));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`nats-server ${spec.name} exited ${code}:\n${log}`))));
    child.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8000);
      if (!ready && log.includes('Server is ready')) {
        ready = true;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.once('exit', () => running.delete(child));
        resolve(child);
      }
    });
  });
}

function node(spec: NodeSpec, first: ChildProcess): NatsNode {
  let child = first;
  const gone = (c: ChildProcess): Promise<void> =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));
  return {
    url: `nats://127.0.0.1:${spec.port}`,
    name: spec.name,
    storeDir: spec.storeDir,
    async kill9() {
      child.kill('SIGKILL');
      await gone(child);
    },
    async restart() {
      child = await launch(spec);
    },
    async stop() {
      child.kill('SIGTERM');
      await gone(child);
    },
  };
}

/** Waits until the cluster elected its JetStream meta leader (streams can be created). */
async function jetStreamReady(urls: string[]): Promise<void> {
  const nc = await connect({ servers: urls });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`JetStream not ready on ${urls.join(', ')}: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}

/** One JetStream node. */
export async function startNats(): Promise<NatsNode & { cleanup(): Promise<void> }> {
  const storeDir = mkdtempSync(join(tmpdir(), 'ragwire-nats-'));
  const spec = { name: 'n1', port: await freePort(), storeDir };
  const n = node(spec, await launch(spec));
  return {
    ...n,
    async cleanup() {
      await n.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** A 3-node JetStream cluster (streams and KV at R3 survive one node down). */
export async function startNatsCluster(): Promise<{ nodes: NatsNode[]; urls: string[]; cleanup(): Promise<void> }> {
  const clusterPorts = [await freePort(), await freePort(), await freePort()];
  const specs: NodeSpec[] = [];
  for (let i = 0; i < 3; i++) {
    specs.push({
      name: `n${i + 1}`,
      port: await freePort(),
      clusterPort: clusterPorts[i]!,
      routes: clusterPorts.filter((_, j) => j !== i),
      storeDir: mkdtempSync(join(tmpdir(), `ragwire-nats${i + 1}-`)),
    });
  }
  const children = await Promise.all(specs.map(launch));
  const nodes = specs.map((s, i) => node(s, children[i]!));
  await jetStreamReady(nodes.map((n) => n.url));
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    async cleanup() {
      await Promise.all(nodes.map((n) => n.stop()));
      for (const s of specs) rmSync(s.storeDir, { recursive: true, force: true });
    },
  };
}
