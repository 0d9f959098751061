// The admin HTTP port: /healthz, /readyz, /metrics (Prometheus), /stats.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRagwireError } from '@ragwire/protocol';
import type { Store } from '@ragwire/store';
import type { TokenTable } from './auth';
import { isLoopbackHost } from './config';
import type { ShardMetrics } from './metrics';

export interface AdminContext {
  store(): Store | undefined;
  ready(): boolean;
  metrics: ShardMetrics;
  tokens: TokenTable | undefined;
  /** /metrics without a token for requests from a loopback address (with tokens configured). */
  metricsOpenOnLoopback: boolean;
  /** Extra facts for /healthz (server version, engine ISA). */
  health: Record<string, unknown>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The credentials of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 7235). */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^bearer +(\S+) *$/i.exec(header ?? '');
  return m ? m[1] : undefined;
}

/**
 * Answers false (and the refusal) unless the request carries a token with read scope on '*'.
 * Without tokens configured the server is loopback-only and everything is open.
 */
function authorized(req: http.IncomingMessage, res: http.ServerResponse, tokens: TokenTable | undefined): boolean {
  if (!tokens) return true;
  try {
    if (tokens.authenticate(bearerToken(req.headers.authorization)).may('read', undefined)) return true;
    json(res, 403, { error: 'the token lacks read scope on *' });
  } catch (error) {
    json(res, 401, { error: (error as Error).message });
  }
  return false;
}

/**
 * /healthz answers 200 while the process runs; /readyz 200 once the store is open and listeners
 * accept, 503 while starting or draining; /metrics is the Prometheus text format; /stats is
 * store.stats() as JSON. When the server has tokens, /stats and /metrics (which names collections)
 * need `Authorization: Bearer <token>` with read scope on '*'; `metricsOpenOnLoopback` lets a
 * scraper on a loopback address read /metrics without one.
 */
export async function startAdmin(host: string, port: number, ctx: AdminContext): Promise<{ url: string; close(): Promise<void> }> {
  const started = Date.now();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    switch (path) {
      case '/healthz':
        return json(res, 200, { status: 'ok', uptimeS: Math.round((Date.now() - started) / 1000), ...ctx.health });
      case '/readyz':
        return ctx.ready() ? json(res, 200, { ready: true }) : json(res, 503, { ready: false });
      case '/metrics':
        if (!(ctx.metricsOpenOnLoopback && isLoopbackHost(req.socket.remoteAddress ?? '')) && !authorized(req, res, ctx.tokens)) return;
        ctx.metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
            res.end(text);
          },
          (error: Error) => json(res, 500, { error: error.message }),
        );
        return;
      case '/stats': {
        if (!authorized(req, res, ctx.tokens)) return;
        const store = ctx.store();
        if (!store) return json(res, 503, { error: 'the store is not open' });
        try {
          return json(res, 200, { stats: store.stats(), collections: store.describe() });
        } catch (error) {
          return json(res, isRagwireError(error) ? error.status : 500, { error: (error as Error).message });
        }
      }
      default:
        return json(res, 404, { error: `no route ${path}; try /healthz, /readyz, /metrics, /stats` });
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostPart}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
