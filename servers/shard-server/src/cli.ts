#!/usr/bin/env node
import { Command } from 'commander';
import type { Device } from '@ragwire/native';
import { startShardServer } from './server';

const collect = (value: string, previous: string[] = []) => [...previous, value];

const program = new Command('ragwire-shard')
  .description('Serve one ragwire store over the binary protocol (tcp:// and unix://), with token auth, metrics and graceful drain.')
  .option(
    '--listen <url>',
    'tcp://host:port, native+tcp://host:port (TCP on the native data plane), ucx://host:port or unix:///path; repeat for more (default tcp://127.0.0.1:7070)',
    collect,
  )
  .requiredOption('--data <dir>', 'store directory (created if missing; one server per directory)')
  .option('--admin <host:port>', 'admin HTTP address for /healthz, /readyz, /metrics, /stats')
  .option('--token <spec>', 'TOKEN[:read|write|admin[:collection|*]], default scope admin on *; repeat for more. Without any: loopback only', collect)
  .option('--snapshot-every <ops>', 'snapshot a collection after this many writes (default 10000)', (v) => Number(v))
  .option('--device <device>', 'where flat collections search and hnsw collections build: cpu, opencl, cuda or auto (default cpu); also RAGWIRE_SHARD_DEVICE')
  .option(
    '--vectors <placement>',
    'memory or disk: sq8, f16 and bq collections keep their f32 rows in mapped files (default memory); also RAGWIRE_SHARD_VECTORS',
  )
  .option(
    '--device-min-work <floats>',
    "with --device: a search batch runs on the device above this work, queries x rows x dim (default: the store's); also RAGWIRE_SHARD_DEVICE_MIN_WORK",
    (v) => Number(v),
  )
  .option(
    '--connection-limit <name=value>',
    'override one connection limit (maxConnections, helloTimeoutMs, idleTimeoutMs, frameTimeoutMs, minFrameBytesPerSecond, preAuthMaxFrameBytes, maxPartialFrameBytes, replyHighWaterBytes, maxUnsentReplyBytes; docs/operations.md); repeat for more',
    collect,
  )
  .option('--metrics-open-on-loopback', 'with tokens, let a scraper on a loopback address read /metrics without a token')
  .option('--nats <url>', 'join a fleet: follow the write log on this NATS server (nats://host:4222); repeat for every node of a cluster', collect)
  .option('--member <id>', "with --nats: this server's member id in the shard map (default: host name and port)")
  .option('--fleet-prefix <prefix>', 'with --nats: subject and bucket prefix (default ragwire)')
  .option('--ready-max-lag <messages>', 'with --nats: /readyz is 200 only within this many log messages of the end (default 1000)', (v) => Number(v))
  .option(
    '--fleet-snapshot-every <messages>',
    'with --nats: upload a snapshot of each collection to the object store after this many log messages (default 50000)',
    (v) => Number(v),
  )
  .option(
    '--fleet-apply-group <messages>',
    'with --nats: apply at most this many consecutive log messages as one store write (1: each alone; default 128)',
    (v) => Number(v),
  )
  .option(
    '--otlp-endpoint <url>',
    'trace queries that carry a trace context: export spans to this OTLP/HTTP traces endpoint (or set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)',
  )
  .option('--native-loops <n>', 'epoll threads of each native+tcp:// listener (default: cores - 1, at least 1, at most 8)', (v) => Number(v))
  .option('--drain-timeout <ms>', 'on SIGTERM, wait this long for requests in flight (default 10000)', (v) => Number(v))
  .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent', 'info');

program.parse();
const opts = program.opts<{
  listen?: string[];
  data: string;
  admin?: string;
  token?: string[];
  snapshotEvery?: number;
  drainTimeout?: number;
  logLevel: string;
  device?: string;
  deviceMinWork?: number;
  vectors?: string;
  connectionLimit?: string[];
  metricsOpenOnLoopback?: boolean;
  otlpEndpoint?: string;
  nats?: string[];
  member?: string;
  fleetPrefix?: string;
  readyMaxLag?: number;
  fleetSnapshotEvery?: number;
  fleetApplyGroup?: number;
  nativeLoops?: number;
}>();
/** `name=value` pairs into an object; the server validates names and values, naming the field. */
function parsePairs(pairs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    out[eq < 0 ? pair : pair.slice(0, eq)] = eq < 0 ? NaN : Number(pair.slice(eq + 1));
  }
  return out;
}
const otlpEndpoint = opts.otlpEndpoint ?? (process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || undefined);
const tokens = opts.token ?? (process.env.RAGWIRE_SHARD_TOKENS ? process.env.RAGWIRE_SHARD_TOKENS.split(',') : undefined);
const device = opts.device ?? process.env.RAGWIRE_SHARD_DEVICE;
const envMinWork = process.env.RAGWIRE_SHARD_DEVICE_MIN_WORK;
const deviceMinWork = opts.deviceMinWork ?? (envMinWork ? Number(envMinWork) : undefined);
const vectors = opts.vectors ?? process.env.RAGWIRE_SHARD_VECTORS;

try {
  const server = await startShardServer({
    listen: opts.listen ?? ['tcp://127.0.0.1:7070'],
    dataDir: opts.data,
    logLevel: opts.logLevel,
    ...(opts.admin !== undefined ? { admin: opts.admin } : {}),
    ...(tokens ? { tokens } : {}),
    ...(opts.snapshotEvery !== undefined ? { snapshotEveryOps: opts.snapshotEvery } : {}),
    ...(device !== undefined ? { device: device as Device } : {}),
    ...(deviceMinWork !== undefined ? { deviceMinWork } : {}),
    ...(vectors !== undefined ? { vectors: vectors as 'memory' | 'disk' } : {}),
    ...(opts.drainTimeout !== undefined ? { drainTimeoutMs: opts.drainTimeout } : {}),
    ...(opts.nativeLoops !== undefined ? { nativeLoops: opts.nativeLoops } : {}),
    ...(opts.connectionLimit ? { connectionLimits: parsePairs(opts.connectionLimit) } : {}),
    ...(opts.metricsOpenOnLoopback ? { metricsOpenOnLoopback: true } : {}),
    ...(otlpEndpoint !== undefined ? { tracing: { enabled: true, otlpEndpoint } } : {}),
    ...(opts.nats
      ? {
          fleet: {
            nats: opts.nats.flatMap((u) => u.split(',')),
            ...(opts.member !== undefined ? { member: opts.member } : {}),
            ...(opts.fleetPrefix !== undefined ? { prefix: opts.fleetPrefix } : {}),
            ...(opts.readyMaxLag !== undefined ? { readyMaxLag: opts.readyMaxLag } : {}),
            ...(opts.fleetSnapshotEvery !== undefined ? { snapshotEvery: opts.fleetSnapshotEvery } : {}),
            ...(opts.fleetApplyGroup !== undefined ? { applyGroup: opts.fleetApplyGroup } : {}),
          },
        }
      : {}),
  });
  // Scripts and supervisors wait for this line: print it at any log level.
  if (!server.log.isLevelEnabled('info')) {
    process.stdout.write(
      JSON.stringify({
        level: 30,
        time: Date.now(),
        name: 'ragwire-shard',
        msg: 'ragwire-shard listening',
        addresses: server.addresses,
        admin: server.adminUrl,
      }) + '\n',
    );
  }
  const stop = (signal: string) => {
    server.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: Error) => {
        server.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (error) {
  process.stderr.write(`ragwire-shard: ${(error as Error).message}\n`);
  process.exit(2);
}
