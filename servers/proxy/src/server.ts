import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import { AccessControl, requestIdOf } from './access';
import { AdmissionController } from './admission';
import { resolveProxyConfig, type DeepPartial, type ProxyConfig } from './config';
import { CompletionsBatcher } from './completions-batcher';
import { EmbeddingsBatcher } from './embeddings-batcher';
import { ProxyError } from './errors';
import { ProxyMetrics } from './metrics';
import { ResponseCache } from './response-cache';
import { createRouter } from './router';
import type { DashboardHooks } from './dashboard/ab-runner';
import { sampleQueueDepth } from './dashboard/queue-sampler';
import { dashboardSenders, isDashboardApiPath, isDashboardPath, registerDashboardRoutes } from './dashboard/routes';
import { PROXY_STAGES, StageRecorder } from './dashboard/stage-recorder';
import { RagGateway } from './rag/gateway';
import { OpenAIRoutes } from './routes';
import { UpstreamCaller } from './upstream-call';
import { UpstreamSet } from './upstream-set';

/** Everything a route needs, built once per proxy. */
export interface ProxyContext {
  config: Readonly<ProxyConfig>;
  log: Logger;
  metrics: ProxyMetrics;
  upstreams: UpstreamSet;
  admission: AdmissionController;
  caller: UpstreamCaller;
  batcher: EmbeddingsBatcher;
  /** Present when `completionsBatching.enabled`. */
  completions: CompletionsBatcher | undefined;
  cache: ResponseCache | undefined;
  /**
   * Per-stage latencies, throughput and queue depth behind /dashboard. The
   * proxy records its own stages; an app in the same process may add its own
   * (`stages.record({ stage: 'retrieve', ms })`), one in another process
   * posts them to /dashboard/api/stages.
   */
  stages: StageRecorder;
  /** Retrieval-augmented chat (model aliases and the `ragwire` body field); idle without `rag.collections`. */
  rag: RagGateway;
}

/** What the process starting a proxy may plug into it. */
export interface ProxyExtensions {
  /** The dashboard's A/B comparison. */
  dashboard?: DashboardHooks;
}

export interface RunningProxy {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  app: FastifyInstance;
  context: ProxyContext;
  close(): Promise<void>;
}

const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
/** `created` of every model listed: when this process started, in Unix seconds. */
const startedAt = Math.floor(Date.now() / 1000);

/** Per-request log lines at debug level: at thousands of requests a second, info-level access logs cost real CPU. */
class QuietRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug({ statusCode: reply.statusCode, ms: reply.elapsedTime, err: error ?? undefined }, 'request completed');
  }
}

/** Sends a ProxyError in OpenAI's shape. */
function sendProxyError(reply: FastifyReply, error: ProxyError): void {
  void reply.code(error.status).headers(error.headers).header('content-type', 'application/json').send(JSON.stringify(error.toJSON()));
}

/**
 * Builds and starts a proxy. `options` layers over the defaults (see
 * ProxyConfig); the config is validated before anything listens.
 */
export async function startProxy(options: DeepPartial<ProxyConfig> | Readonly<ProxyConfig>, logger?: Logger, extensions: ProxyExtensions = {}): Promise<RunningProxy> {
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
  };

  const access = new AccessControl(config, metrics);
  const openai = new OpenAIRoutes(context, access);
  // The OpenAI routes are answered on Node's HTTP server directly; the rest
  // (models, health, metrics, dashboard) by fastify.
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    logController: new QuietRequestLog(),
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers),
    serverFactory: (handler) => {
      const server = createServer((req, res) => {
        if (!openai.handle(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = 65_000;
      return server;
    },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, (text as string).length === 0 ? undefined : JSON.parse(text as string));
    } catch (error) {
      done(new ProxyError('invalid_json', `the request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    void reply.header('x-request-id', request.id);
    const path = request.url.split('?')[0]!;
    if (OPEN_ROUTES.has(path)) return;
    if (config.dashboard.enabled && isDashboardPath(path)) {
      // The page and its assets are static and hold no data; its API needs a key when keys are configured.
      if (isDashboardApiPath(path)) dashboardSenders.set(request, access.dashboardSender(request.headers.authorization, request.ip));
      return;
    }
    access.check(request.headers.authorization, request.ip);
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    let failure: ProxyError;
    if (error instanceof ProxyError) failure = error;
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') failure = new ProxyError('body_too_large', `the request body exceeds ${config.bodyLimitBytes} bytes`);
    else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') failure = new ProxyError('invalid_json', error.message);
    else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) failure = new ProxyError('invalid_request', error.message);
    else {
      request.log.error({ err: error, reqId: request.id }, 'unhandled error');
      failure = new ProxyError('internal_error', `internal error: ${error.message}`);
    }
    metrics.requests.inc({ model: '', route: request.routeOptions.url ?? 'unknown', status: failure.status });
    if (failure.status >= 500) request.log.warn({ reqId: request.id, code: failure.code, msg: failure.message }, 'request failed');
    sendProxyError(reply, failure);
  });

  app.setNotFoundHandler((request, reply) => {
    sendProxyError(reply, new ProxyError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const healthy = upstreams.upstreams.filter((u) => u.healthy).map((u) => u.url);
    const ready = healthy.length > 0 && upstreams.models().length > 0;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', healthyUpstreams: healthy, models: upstreams.models() });
  });
  app.get('/metrics', async (_request, reply) => {
    for (const model of upstreams.models()) metrics.queueDepth.set({ model }, admission.queueDepth(model));
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [...upstreams.models(), ...context.rag.aliasNames()].map((id) => ({ id, object: 'model', created: startedAt, owned_by: 'ragwire-proxy' })),
  }));
  if (config.dashboard.enabled) {
    sampleQueueDepth(app, context);
    registerDashboardRoutes(app, context, extensions.dashboard);
  }

  await upstreams.start();
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await upstreams.close();
    await context.rag.close();
    throw error;
  }
  const addr = app.server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  log.info({ url, upstreams: config.upstreams, models: upstreams.models(), routing: config.routing.strategy }, 'ragwire-proxy listening');
  return {
    url,
    app,
    context,
    close: async () => {
      await app.close();
      await upstreams.close();
      await context.rag.close();
    },
  };
}
