// The shard server's configuration: one schema, validated at start, then frozen.
import { availableParallelism } from 'node:os';
import net from 'node:net';
import { levels, type Logger } from 'pino';
import { ConfigError, configSchema, isRagwireError, parseConfig, PROTOCOL_LIMIT_RANGES, resolveLimits, type ProtocolLimits } from '@ragwire/protocol';
import { DEVICES, type Device } from '@ragwire/native';
import type { Store } from '@ragwire/store';
import { TRACING_DEFAULTS, TRACING_SCHEMA_FIELDS, type TracingConfig } from '@ragwire/tracing';
import { parseTokenSpec, SCOPES, type TokenGrant } from './auth';
import { connectionLimitsSchema, resolveConnectionLimits, type ConnectionLimits } from './connection-limits';
import type { FleetOptions } from './fleet-member';

export interface ShardServerOptions {
  /**
   * Where to accept connections: `tcp://host:port` (port 0: ephemeral), `native+tcp://host:port` (TCP read by
   * the native data plane), `ucx://host:port` and `unix:///path.sock`. At least one.
   */
  listen: string[];
  /** Store directory (opened with openStore). Exactly one of `dataDir` and `store`. */
  dataDir?: string;
  /** An already open store to serve; the caller keeps ownership (close() does not close it). */
  store?: Store;
  /** Admin HTTP address `host:port` for /healthz, /readyz, /metrics, /stats. Default: none. */
  admin?: string;
  /** Accepted tokens, as grants or the CLI form `TOKEN[:scope[:collection]]`. None: loopback only, no auth. */
  tokens?: (TokenGrant | string)[];
  /** pino logger; default: JSON to stdout at `logLevel`. */
  logger?: Logger;
  /** Default 'info'. */
  logLevel?: string;
  /** Protocol limits this server enforces and advertises (docs/protocol.md §8). Default: the protocol's. */
  limits?: Partial<ProtocolLimits>;
  /** Requests in flight per connection before the server stops reading from it. Default 1024. */
  maxInFlightPerConnection?: number; // requests
  /** How long close() waits for in-flight requests before closing connections. Default 10000 ms. */
  drainTimeoutMs?: number; // ms
  /** Store option: snapshot a collection after this many writes. Default: the store's (10,000). */
  snapshotEveryOps?: number;
  /**
   * Store option: where flat collections search and hnsw collections build ('cpu', 'opencl', 'cuda' or
   * 'auto'; docs/engine.md "Devices"). Default: the store's ('cpu'). Only with dataDir.
   */
  device?: Device;
  /** Store option: a search batch goes to the device above this work (queries x rows x dim). Default: the store's. */
  deviceMinWork?: number; // floats compared
  /**
   * Store option: 'disk' keeps the f32 rows of collections that walk codes (storage sq8 or f16, kind
   * bq) in memory-mapped files beside their snapshots (docs/engine.md "Vectors on disk"). Default: the
   * store's ('memory'). Only with dataDir.
   */
  vectors?: 'memory' | 'disk';
  /** Connection caps, deadlines and reply buffers (docs/operations.md "Limits and timeouts"). Default: DEFAULT_CONNECTION_LIMITS. */
  connectionLimits?: Partial<ConnectionLimits>;
  /**
   * native+tcp:// listeners answer the plain dense queries they can on their loop thread, and ucx://
   * listeners on the UCX progress thread, from the store's collections (docs/architecture.md "Data
   * plane"). False hands every frame to JavaScript (for comparison). Default true.
   */
  nativeAnswers?: boolean;
  /**
   * Epoll threads of each native+tcp:// listener: each owns the connections it accepts and answers
   * their queries, so queries of many connections are answered on as many cores. Default: the
   * host's cores less one (for the JavaScript thread), at least 1, at most 8.
   */
  nativeLoops?: number;
  /**
   * With tokens, /metrics needs a token with read scope on '*' like /stats. True lets a scraper on a
   * loopback address read it without one. Default false.
   */
  metricsOpenOnLoopback?: boolean;
  /** Fleet membership (`--nats`): follow the write log of every fleet collection. Default: none (writes come over the protocol). */
  fleet?: FleetOptions;
  /**
   * OpenTelemetry traces (docs/operations.md "Traces"): a span per query that carries a trace context
   * (docs/protocol.md §5.12), exported over OTLP/HTTP. Default: off; serviceName 'ragwire-shard'.
   */
  tracing?: Partial<TracingConfig>;
}

export type ListenAddress =
  | { kind: 'tcp'; host: string; port: number }
  /** TCP served by the native data plane's epoll thread (docs/protocol.md §2.3); clients dial it as tcp://. */
  | { kind: 'native-tcp'; host: string; port: number }
  | { kind: 'ucx'; host: string; port: number }
  | { kind: 'unix'; path: string };

export interface ResolvedConfig {
  listen: ListenAddress[];
  dataDir: string | undefined;
  store: Store | undefined;
  admin: { host: string; port: number } | undefined;
  tokens: TokenGrant[];
  limits: ProtocolLimits;
  maxInFlightPerConnection: number;
  drainTimeoutMs: number;
  snapshotEveryOps: number | undefined;
  device: Device | undefined;
  deviceMinWork: number | undefined;
  vectors: 'memory' | 'disk' | undefined;
  connectionLimits: ConnectionLimits;
  nativeAnswers: boolean;
  nativeLoops: number;
  metricsOpenOnLoopback: boolean;
  fleet: FleetOptions | undefined;
  tracing: TracingConfig;
}

const WHERE = 'shard server option';

function fail(field: string, message: string): never {
  throw new ConfigError(WHERE, field, message);
}

export function isLoopbackHost(host: string): boolean {
  if (host.startsWith('::ffff:')) host = host.slice(7); // an IPv4 peer on a dual-stack socket
  if (host === 'localhost' || host === '::1') return true;
  return net.isIPv4(host) && host.startsWith('127.');
}

export function parseListen(url: string, field = 'listen'): ListenAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    fail(field, `expected tcp://host:port, native+tcp://host:port, ucx://host:port or unix:///path, got ${JSON.stringify(url)}`);
  }
  const hostKinds = { 'tcp:': 'tcp', 'native+tcp:': 'native-tcp', 'ucx:': 'ucx' } as const;
  if (Object.hasOwn(hostKinds, u.protocol)) {
    const kind = hostKinds[u.protocol as keyof typeof hostKinds];
    const port = Number(u.port === '' ? NaN : u.port);
    if (!u.hostname || !Number.isInteger(port) || port < 0 || port > 65535)
      fail(field, `${kind} address needs a host and a port (0: ephemeral), got ${JSON.stringify(url)}`);
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    return { kind, host, port };
  }
  if (u.protocol === 'unix:') {
    const path = decodeURIComponent(u.pathname);
    if (!path || path === '/') fail(field, `unix address needs a socket path (unix:///run/ragwire.sock), got ${JSON.stringify(url)}`);
    return { kind: 'unix', path };
  }
  fail(field, `unsupported scheme ${u.protocol}// in ${JSON.stringify(url)}: use tcp://, native+tcp://, ucx:// or unix://`);
}

function parseHostPort(value: string, field: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  if (!m) fail(field, `expected host:port, got ${JSON.stringify(value)}`);
  const port = Number(m[2]);
  if (port > 65535) fail(field, `port must be 0..65535, got ${port}`);
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}

const positive = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER };

const optionsSchema = configSchema<
  ShardServerOptions & { maxInFlightPerConnection: number; drainTimeoutMs: number; metricsOpenOnLoopback: boolean; nativeAnswers: boolean }
>({
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: { type: 'array', minItems: 1, items: { type: 'string' } },
    dataDir: { type: 'string', minLength: 1 },
    store: { instanceOf: 'Object' },
    admin: { type: 'string' },
    tokens: {
      type: 'array',
      items: {
        type: ['string', 'object'],
        additionalProperties: false,
        required: ['token', 'scope', 'collection'],
        properties: { token: { type: 'string', minLength: 8 }, scope: { enum: SCOPES }, collection: { type: 'string', minLength: 1 } },
      },
    },
    logger: { instanceOf: 'Object' },
    logLevel: { enum: [...Object.keys(levels.values), 'silent'] },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        Object.entries(PROTOCOL_LIMIT_RANGES).map(([name, [min, max]]) => [name, { type: 'integer', minimum: min, maximum: max }]),
      ),
    },
    maxInFlightPerConnection: { ...positive, default: 1024 }, // requests
    drainTimeoutMs: { ...positive, default: 10_000 }, // ms
    snapshotEveryOps: positive,
    device: { enum: DEVICES },
    deviceMinWork: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, // floats compared
    vectors: { enum: ['memory', 'disk'] },
    connectionLimits: connectionLimitsSchema,
    nativeAnswers: { type: 'boolean', default: true },
    nativeLoops: { type: 'integer', minimum: 1, maximum: 64 },
    metricsOpenOnLoopback: { type: 'boolean', default: false },
    fleet: {
      type: 'object',
      additionalProperties: false,
      required: ['nats'],
      properties: {
        nats: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^(nats|tls)://[^/]+$' } },
        member: { type: 'string', pattern: '^[A-Za-z0-9_=-]{1,128}$' },
        prefix: { type: 'string', minLength: 1 },
        readyMaxLag: positive, // messages
        minSeqWaitMs: positive, // ms
        snapshotEvery: positive, // messages
        applyGroup: positive, // messages
        heartbeatMs: positive, // ms
      },
    },
    tracing: { type: 'object', additionalProperties: false, properties: TRACING_SCHEMA_FIELDS },
  },
});

/**
 * Validates `options` against one schema (unknown options refused, the field named), then what a
 * schema cannot say: addresses parse, and a server without tokens accepts only loopback TCP
 * addresses (and Unix sockets, which are local by nature). Throws ConfigError naming the field.
 */
export function resolveConfig(options: ShardServerOptions): Readonly<ResolvedConfig> {
  return parseConfig(optionsSchema, options, WHERE, (o): ResolvedConfig => {
    if (!o.listen || o.listen.length === 0) fail('listen', 'give at least one tcp://, native+tcp://, ucx:// or unix:// address');
    if ((o.dataDir === undefined) === (o.store === undefined)) fail('dataDir', 'give exactly one of dataDir and store');
    for (const field of ['snapshotEveryOps', 'device', 'deviceMinWork', 'vectors'] as const) {
      if (o.store !== undefined && o[field] !== undefined) fail(field, 'is a store option: give it with dataDir, or open the store with it');
    }
    const listen = o.listen.map((u, i) => parseListen(u, `listen[${i}]`));
    const tokens = (o.tokens ?? []).map((t, i) => {
      if (typeof t !== 'string') return t;
      try {
        return parseTokenSpec(t);
      } catch (error) {
        if (isRagwireError(error)) fail(`tokens[${i}]`, error.message);
        throw error;
      }
    });
    const admin = o.admin !== undefined ? parseHostPort(o.admin, 'admin') : undefined;
    if (tokens.length === 0) {
      for (const [i, a] of listen.entries()) {
        if (a.kind !== 'unix' && !isLoopbackHost(a.host)) {
          fail(`listen[${i}]`, `${a.host} is not a loopback address; without --token the server listens on loopback only`);
        }
      }
      if (admin && !isLoopbackHost(admin.host)) fail('admin', `${admin.host} is not a loopback address; without --token the admin port is loopback only`);
    }
    const limits = resolveLimits(o.limits);
    return {
      listen,
      dataDir: o.dataDir,
      store: o.store,
      admin,
      tokens,
      limits,
      maxInFlightPerConnection: o.maxInFlightPerConnection,
      drainTimeoutMs: o.drainTimeoutMs,
      snapshotEveryOps: o.snapshotEveryOps,
      device: o.device,
      deviceMinWork: o.deviceMinWork,
      vectors: o.vectors,
      connectionLimits: resolveConnectionLimits(o.connectionLimits, limits, WHERE),
      nativeAnswers: o.nativeAnswers,
      nativeLoops: o.nativeLoops ?? Math.max(1, Math.min(availableParallelism() - 1, 8)),
      metricsOpenOnLoopback: o.metricsOpenOnLoopback,
      fleet: o.fleet,
      tracing: { ...TRACING_DEFAULTS, serviceName: 'ragwire-shard', ...o.tracing },
    };
  });
}
