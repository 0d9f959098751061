import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { requestIdOf, type AccessControl } from './access';
import { ProxyError } from '../errors';
import { Exchange } from './exchange';
import { child, type ProxyMetrics } from '../metrics';
import { readJsonBody } from './request-body';
import type { StageRecorder } from '../dashboard/stage-recorder';
import type { Tracing } from '@ragwire/tracing';

/**
 * Who may call a route: anyone (`open`: health, metrics, static files), an
 * API key holder with the per-key rate limit (`key`: the OpenAI and vLLM
 * routes), the dashboard's API (`dashboard`: an API key or
 * `dashboardApi.key`, no rate limit), or /metrics (`metrics`: a key only when
 * `auth.metricsAccess` asks for one).
 */
export type RouteAccess = 'open' | 'key' | 'dashboard' | 'metrics';

export interface Route {
  access: RouteAccess;
  /** Read the body as JSON first (POST routes). */
  json: boolean;
  /**
   * The dashboard stage a 2xx answer's duration counts towards; routes with
   * a stage also count towards the dashboard's throughput.
   */
  stage?: string;
  handle(ex: Exchange, body: unknown, bytes: Buffer): Promise<void> | void;
}

export interface PipelineParts {
  access: AccessControl;
  metrics: ProxyMetrics;
  log: Logger;
  stages: StageRecorder | undefined;
  bodyLimitBytes: number;
  /** Tracing, when on: routes with `key` access get a server span each. */
  tracing: Tracing | undefined;
}

/**
 * The one path every request takes, on Node's own HTTP objects (no framework
 * between the socket and the upstream call): the route by method and path,
 * the request id, access (key, rate limit), the JSON body within its limit,
 * the handler, every failure answered in OpenAI's shape, and one count in
 * `ragwire_proxy_requests_total` (and the dashboard's throughput and stage,
 * for routes with a stage) per request.
 */
export class RequestPipeline {
  private readonly exact = new Map<string, Map<string, Route>>();
  private readonly prefixes: { prefix: string; method: string; route: Route }[] = [];

  constructor(private readonly parts: PipelineParts) {}

  /** Adds a route answering `method path` exactly; a second route for the same pair is a bug. */
  add(method: 'GET' | 'POST', path: string, route: Route): void {
    let byMethod = this.exact.get(path);
    if (!byMethod) this.exact.set(path, (byMethod = new Map()));
    if (byMethod.has(method)) throw new Error(`route ${method} ${path} is registered twice`);
    byMethod.set(method, route);
  }

  /** Adds a route answering every path under `prefix` (its metric label is `prefix*`). */
  addPrefix(method: 'GET' | 'POST', prefix: string, route: Route): void {
    this.prefixes.push({ prefix, method, route });
  }

  /** The request handler for node:http's createServer. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // HEAD is answered by the GET route: Node's response sends the headers only.
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    let route = this.exact.get(path)?.get(method);
    let label = path;
    if (!route) {
      const found = this.prefixes.find((p) => p.method === method && path.startsWith(p.prefix));
      if (found) {
        route = found.route;
        label = `${found.prefix}*`;
      }
    }
    const ex = new Exchange(req, res, requestIdOf(req.headers), path);
    this.serve(ex, route, route ? label : 'unknown').catch((error: unknown) =>
      this.parts.log.error({ err: error, reqId: ex.id }, 'unhandled error after the answer'),
    );
  };

  private async serve(ex: Exchange, route: Route | undefined, label: string): Promise<void> {
    const { parts } = this;
    try {
      if (!route) throw new ProxyError('not_found', `no route ${ex.req.method} ${ex.route}`);
      const address = ex.req.socket.remoteAddress ?? '';
      switch (route.access) {
        case 'key': {
          if (parts.tracing)
            ex.trace = parts.tracing.request(`${ex.req.method} ${label}`, ex.req.headers.traceparent, {
              'http.request.method': ex.req.method ?? '',
              'http.route': label,
              'ragwire.request_id': ex.id,
            });
          const caller = parts.access.check(ex.req.headers.authorization, address);
          ex.sender = caller.name;
          ex.tenant = caller.tenant;
          if (caller.tenant) {
            const tenant = caller.tenant;
            ex.onUsage = (tokens) => parts.access.budgets.charge(tenant, tokens);
          }
          break;
        }
        case 'dashboard':
          ex.sender = parts.access.dashboardSender(ex.req.headers.authorization, address);
          break;
        case 'metrics':
          ex.sender = parts.access.metricsReader(ex.req.headers.authorization, address);
          break;
        case 'open':
          ex.sender = address;
          break;
      }
      if (route.json) {
        const { value, bytes } = await readJsonBody(ex.req, parts.bodyLimitBytes);
        await route.handle(ex, value, bytes);
      } else {
        await route.handle(ex, undefined, EMPTY);
      }
    } catch (error) {
      this.failed(ex, error);
    }
    if (ex.status === 0) ex.status = 499; // the client left before any answer
    child(parts.metrics.requests, ex.model, label, String(ex.status)).inc();
    if (ex.trace) {
      ex.trace.set({ 'http.response.status_code': ex.status, 'ragwire.model': ex.model });
      ex.trace.end(ex.status >= 500 ? `status ${ex.status}` : undefined);
    }
    if (route?.stage !== undefined && parts.stages) {
      parts.stages.countRequest();
      if (ex.status < 300) parts.stages.record({ stage: route.stage, ms: ex.elapsedMs() });
    }
    if (parts.log.isLevelEnabled('debug'))
      parts.log.debug({ reqId: ex.id, method: ex.req.method, url: ex.req.url, statusCode: ex.status, ms: ex.elapsedMs() }, 'request completed');
  }

  private failed(ex: Exchange, error: unknown): void {
    if (ex.answered || ex.res.destroyed || ex.req.socket.destroyed) {
      // Too late to answer: the client left, or a stream already began (and ended with its error event).
      if (ex.status === 0) ex.status = 499;
      return;
    }
    let failure: ProxyError;
    if (error instanceof ProxyError) failure = error;
    else {
      this.parts.log.error({ err: error, reqId: ex.id }, 'unhandled error');
      failure = new ProxyError('internal_error', `internal error: ${(error as Error).message}`);
    }
    if (failure.status >= 500) this.parts.log.warn({ reqId: ex.id, code: failure.code, msg: failure.message }, 'request failed');
    ex.fail(failure);
  }
}

const EMPTY = Buffer.alloc(0);
