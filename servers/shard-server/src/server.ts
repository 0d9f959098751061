// startShardServer: listeners, auth, admin HTTP and a graceful drain in front of one store.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { performance } from 'node:perf_hooks';
import { OverloadedError, encodeFrame, toErrorReply } from '@ragwire/protocol';
import { DataPlaneRegistry, isa } from '@ragwire/native';
import { openStore, type Store } from '@ragwire/store';
import { createTracing } from '@ragwire/tracing';
import { startAdmin } from './admin';
import { TokenTable } from './auth';
import { ClientConnection } from './client-connection';
import type { ConnectionContext } from './connection-context';
import { resolveConfig, type ShardServerOptions } from './config';
import { PartialFrameBudget, sweepIntervalMs } from './connection-limits';
import { listen } from './listen';
import type { FrameSocket, Listener } from './listener';
import { ShardMetrics } from './metrics';
import { startFleetMember, type FleetMember } from './fleet-member';

export interface ShardServer {
  /** The bound addresses, ports resolved: `tcp://127.0.0.1:40123`, `unix:///run/ragwire.sock`. */
  readonly addresses: string[];
  /** `http://host:port` of the admin port, when one was asked for. */
  readonly adminUrl: string | undefined;
  readonly store: Store;
  readonly metrics: ShardMetrics;
  readonly log: Logger;
  /**
   * Stops accepting connections, answers new requests with RAGWIRE_ERR_CLOSED, waits for the
   * requests in flight (up to drainTimeoutMs), closes connections, then closes the store (which
   * snapshots what changed) unless the caller passed it in. Idempotent.
   */
  close(): Promise<void>;
}

function serverVersion(): string {
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    return (JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Opens the store (or takes the given one) and starts serving it. */
export async function startShardServer(options: ShardServerOptions): Promise<ShardServer> {
  const config = resolveConfig(options);
  const log = options.logger ?? pino({ name: 'ragwire-shard', level: options.logLevel ?? 'info' });
  const version = serverVersion();
  let opened: Store | undefined = config.store;
  const metrics = new ShardMetrics(() => opened);
  const store = (opened ??= await openStore({
    path: config.dataDir!,
    ...(config.snapshotEveryOps !== undefined ? { snapshotEveryOps: config.snapshotEveryOps } : {}),
    ...(config.device !== undefined ? { device: config.device } : {}),
    ...(config.deviceMinWork !== undefined ? { deviceMinWork: config.deviceMinWork } : {}),
    ...(config.vectors !== undefined ? { vectors: config.vectors } : {}),
    onRebuild: (event) => {
      log.warn(event, 'index rebuilt from LMDB: no usable snapshot');
      metrics.snapshotRebuilds.inc({ collection: event.collection, reason: event.reason });
    },
  }));
  const ownsStore = config.store === undefined;
  const tracing = createTracing(config.tracing);
  const tokens = config.tokens.length > 0 ? new TokenTable(config.tokens) : undefined;
  let draining = false;
  let ready = false;
  const connections = new Set<ClientConnection>();
  let nextConnId = 1;
  const connectionLimits = config.connectionLimits;
  metrics.observeConnections(connectionLimits, () => {
    let unsentReplyBytes = 0;
    for (const c of connections) unsentReplyBytes += c.unsentBytes;
    return { unsentReplyBytes };
  });
  const ctx: ConnectionContext = {
    store,
    tokens,
    limits: config.limits,
    metrics,
    log,
    maxInFlight: config.maxInFlightPerConnection,
    connectionLimits,
    frameBudget: new PartialFrameBudget(connectionLimits.maxPartialFrameBytes, (held) => metrics.partialFrameBytes.set(held)),
    serverName: `ragwire-shard/${version}`,
    draining: () => draining,
    fleet: undefined,
    tracing,
    extensions: new Set(tracing ? ['trace'] : []),
  };

  const listeners: Listener[] = [];
  const addresses: string[] = [];
  metrics.observeNativePlane(() => listeners.flatMap((l) => (l.nativeStats ? [l.nativeStats()] : [])));
  const accept = (socket: FrameSocket): void => {
    if (draining) {
      socket.destroy();
      return;
    }
    if (connections.size >= connectionLimits.maxConnections) {
      metrics.closedConnections.inc({ reason: 'max_connections' });
      log.warn({ maxConnections: connectionLimits.maxConnections }, 'connection refused: at the connection cap');
      const refusal = new OverloadedError(`the server holds its cap of ${connectionLimits.maxConnections} connections`);
      socket.on('error', () => undefined);
      socket.end(encodeFrame(toErrorReply(refusal), 0, config.limits));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const conn = new ClientConnection(nextConnId++, socket, ctx);
    connections.add(conn);
    metrics.connections.inc();
    socket.once('close', () => {
      connections.delete(conn);
      metrics.connections.dec();
    });
  };
  // native+tcp:// loops and the UCX progress thread answer plain dense queries from the store's collections, published here.
  const dataPlane = config.nativeAnswers && config.listen.some((a) => a.kind === 'native-tcp' || a.kind === 'ucx') ? new DataPlaneRegistry() : undefined;
  if (dataPlane) store.publishTo(dataPlane);
  const listenOptions = {
    handshakeTimeoutMs: connectionLimits.helloTimeoutMs,
    maxPendingHandshakes: connectionLimits.maxConnections,
    onHandshakeError: (error: Error) => log.info({ err: error.message }, 'transport handshake failed'),
    maxFrameBytes: config.limits.maxFrameBytes,
    maxUnsentReplyBytes: connectionLimits.maxUnsentReplyBytes,
    replyHighWaterBytes: connectionLimits.replyHighWaterBytes,
    nativeLoops: config.nativeLoops,
    ...(dataPlane ? { answering: { registry: dataPlane, limits: config.limits } } : {}),
  };
  let admin: Awaited<ReturnType<typeof startAdmin>> | undefined;
  let fleet: FleetMember | undefined;
  try {
    for (const address of config.listen) {
      const listener = await listen(address, accept, listenOptions);
      listeners.push(listener);
      addresses.push(listener.address);
    }
    if (config.admin) {
      admin = await startAdmin(config.admin.host, config.admin.port, {
        store: () => store,
        ready: () => ready && !draining && (fleet?.ready() ?? true),
        metrics,
        tokens,
        metricsOpenOnLoopback: config.metricsOpenOnLoopback,
        health: { server: `ragwire-shard/${version}`, isa: isa() },
      });
    }
    if (config.fleet) ctx.fleet = fleet = await startFleetMember(config.fleet, { store, addresses, adminUrl: admin?.url, log, metrics });
  } catch (error) {
    if (dataPlane) {
      dataPlane.dispose();
      store.unpublishFrom(dataPlane);
    }
    await Promise.all(listeners.map((l) => l.close()));
    await fleet?.close();
    await admin?.close();
    if (ownsStore) await store.close();
    await tracing?.close();
    throw error;
  }
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const c of connections) c.checkDeadlines(now);
  }, sweepIntervalMs(connectionLimits));
  sweep.unref();
  ready = true;
  if (tokens === undefined) {
    log.warn({ addresses }, 'no token configured: listening on loopback (and unix sockets) only, without authentication');
  }
  log.info(
    {
      addresses,
      admin: admin?.url,
      member: fleet?.member,
      data: config.dataDir,
      collections: store.describe().map((c) => c.name),
      tokens: tokens?.size ?? 0,
      isa: isa(),
    },
    'ragwire-shard listening',
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      draining = true;
      // From here on every query reaches JavaScript, which refuses it while draining.
      if (dataPlane) {
        dataPlane.dispose();
        store.unpublishFrom(dataPlane);
      }
      // Frames a loop read meanwhile reach JavaScript before it waits for its connections to go idle.
      await Promise.all(listeners.map((l) => l.quiesce?.()));
      log.info({ connections: connections.size }, 'draining');
      for (const c of connections) c.drain();
      const stopped = Promise.all(listeners.map((l) => l.close()));
      let timer: NodeJS.Timeout | undefined;
      const idle = () => Promise.all([...connections].map((c) => c.idle()));
      const drained = await Promise.race([
        // Frames a native loop read while the last requests ran reach JavaScript (and are refused)
        // before the connections close: idle, then the loops' barrier, then idle again.
        idle()
          .then(() => Promise.all(listeners.map((l) => l.quiesce?.())))
          .then(idle)
          .then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), config.drainTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (!drained) log.warn({ drainTimeoutMs: config.drainTimeoutMs }, 'drain timed out; closing connections with requests in flight');
      for (const c of connections) c.end();
      const forced = setTimeout(() => {
        for (const c of connections) c.destroy();
      }, 1000);
      await stopped;
      clearTimeout(forced);
      clearInterval(sweep);
      await fleet?.close();
      await admin?.close();
      if (ownsStore) await store.close();
      await tracing?.close();
      log.info('stopped');
    })());

  return { addresses, adminUrl: admin?.url, store, metrics, log, close };
}
