import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { CompletionsBatcher } from './batching/completions-batcher';
import { EmbeddingsBatcher } from './batching/embeddings-batcher';
import { resolveProxyConfig, type DeepPartial, type ProxyConfig } from './config';
import type { ProxyContext, ProxyPlugin } from './context';
import type { DashboardHooks } from './dashboard/ab-runner';
import { dashboardPlugin } from './dashboard/plugin';
import { PROXY_STAGES, StageRecorder } from './dashboard/stage-recorder';
import { AccessControl } from './http/access';
import { registerOpenAIRoutes } from './http/openai-routes';
import { RequestPipeline } from './http/pipeline';
import { ResponseCache } from './http/response-cache';
import { ProxyMetrics } from './metrics';
import { RagGateway } from './rag/gateway';
import { createTracing } from '@ragwire/tracing';
import { AdmissionController } from './upstream/admission';
import { createRouter } from './upstream/router';
import { UpstreamCaller } from './upstream/upstream-call';
import { UpstreamSet } from './upstream/upstream-set';

/** What the process starting a proxy may plug into it. */
export interface ProxyExtensions {
  /**
   * Plug-ins to register. Default: the dashboard (with `dashboard`'s hooks)
   * when `dashboard.enabled`; `[]` runs the proxy without any.
   */
  plugins?: ProxyPlugin[];
  /** The dashboard's A/B comparison, for the default dashboard plug-in. */
  dashboard?: DashboardHooks;
}

export interface RunningProxy {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  server: Server;
  context: ProxyContext;
  /** Re-reads `auth.keysFile` (the CLI does on SIGHUP); returns how many keys are now accepted. */
  reloadKeys(): number;
  close(): Promise<void>;
}

/** `created` of every model listed: when this process started, in Unix seconds. */
const startedAt = Math.floor(Date.now() / 1000);

/** Health, readiness, Prometheus metrics and the model list: the routes every proxy has besides the OpenAI ones. */
function registerServiceRoutes(pipeline: RequestPipeline, ctx: ProxyContext): void {
  const { upstreams, metrics, admission } = ctx;
  pipeline.add('GET', '/healthz', { access: 'open', json: false, handle: (ex) => ex.json(200, { status: 'ok' }) });
  pipeline.add('GET', '/readyz', {
    access: 'open',
    json: false,
    handle(ex) {
      const healthy = upstreams.upstreams.filter((u) => u.healthy).map((u) => u.url);
      const ready = healthy.length > 0 && upstreams.models().length > 0;
      ex.json(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', healthyUpstreams: healthy, models: upstreams.models() });
    },
  });
  pipeline.add('GET', '/metrics', {
    access: 'metrics',
    json: false,
    async handle(ex) {
      for (const model of upstreams.models()) metrics.queueDepth.set({ model }, admission.queueDepth(model));
      const text = await metrics.registry.metrics();
      ex.headers['content-type'] = metrics.registry.contentType;
      ex.send(200, text);
    },
  });
  pipeline.add('GET', '/v1/models', {
    access: 'key',
    json: false,
    handle: (ex) => {
      const scope = ex.tenant?.models;
      const ids = [...upstreams.models(), ...ctx.rag.aliasNames()].filter((id) => !scope || scope.has(id));
      ex.json(200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: startedAt, owned_by: 'ragwire-proxy' })) });
    },
  });
}

/**
 * Builds and starts a proxy. `options` layers over the defaults (see
 * ProxyConfig); the config is validated before anything listens.
 */
export async function startProxy(
  options: DeepPartial<ProxyConfig> | Readonly<ProxyConfig>,
  logger?: Logger,
  extensions: ProxyExtensions = {},
): Promise<RunningProxy> {
  const config = Object.isFrozen(options) ? (options as Readonly<ProxyConfig>) : resolveProxyConfig(options as DeepPartial<ProxyConfig>);
  const log = logger ?? pino({ level: config.logLevel, base: { name: 'ragwire-proxy' } });
  const metrics = new ProxyMetrics();
  const upstreams = new UpstreamSet(config, metrics, log);
  const admission = new AdmissionController(config.admission, upstreams, createRouter(config.routing), metrics);
  const caller = new UpstreamCaller(config, admission, upstreams, metrics, log);
  const batcher = new EmbeddingsBatcher(config.embeddingsBatching, caller, metrics);
  const context: ProxyContext = {
    config,
    log,
    metrics,
    upstreams,
    admission,
    caller,
    batcher,
    completions: config.completionsBatching.enabled ? new CompletionsBatcher(config.completionsBatching, caller, metrics) : undefined,
    cache: config.cache.enabled ? new ResponseCache(config.cache.maxEntries, config.cache.ttlMs) : undefined,
    stages: new StageRecorder({ windowSeconds: config.dashboard.windowSeconds, reserved: PROXY_STAGES }),
    rag: new RagGateway(config, upstreams, batcher, caller),
    tracing: createTracing(config.tracing),
  };

  const access = new AccessControl(config, metrics, log);
  const pipeline = new RequestPipeline({
    access,
    metrics,
    log,
    stages: config.dashboard.enabled ? context.stages : undefined,
    bodyLimitBytes: config.bodyLimitBytes,
    tracing: context.tracing,
  });
  registerOpenAIRoutes(pipeline, context);
  registerServiceRoutes(pipeline, context);
  const plugins = extensions.plugins ?? (config.dashboard.enabled ? [dashboardPlugin(extensions.dashboard)] : []);
  const onClose = plugins.map((p) => p.register(pipeline, context)).filter((f): f is () => void => typeof f === 'function');

  const server = createServer(pipeline.handle);
  server.keepAliveTimeout = 65_000;
  const shutdown = async () => {
    for (const f of onClose) f();
    await upstreams.close();
    await context.rag.close();
    await context.tracing?.close();
  };
  await upstreams.start();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await shutdown();
    throw error;
  }
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  log.info(
    { url, upstreams: config.upstreams, models: upstreams.models(), routing: config.routing.strategy, plugins: plugins.map((p) => p.name) },
    'ragwire-proxy listening',
  );
  return {
    url,
    server,
    context,
    reloadKeys: () => access.reload(),
    close: async () => {
      // Stop accepting, close idle keep-alive connections, wait for requests in flight.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await shutdown();
    },
  };
}
