import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyConfig } from '../config';
import { ProxyError, retryAfterHeaders } from '../errors';
import type { ProxyMetrics } from '../metrics';
import { KeyRateLimiter } from './rate-limit';

const REQUEST_ID = /^[\w.:@+\-=/]{1,200}$/;

/** The client's `x-request-id` when it is a sane token, else a fresh UUID; passed upstream and back. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The token of an `Authorization: Bearer <token>` header. The scheme is
 * matched case-insensitively (RFC 7235 §2.1: `bearer`, `BEARER` are the same
 * scheme); undefined when the header is absent or names another scheme.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length < 7) return undefined;
  if (authorization.slice(0, 6).toLowerCase() !== 'bearer' || (authorization[6] !== ' ' && authorization[6] !== '\t')) return undefined;
  const token = authorization.slice(7).trim();
  return token.length > 0 ? token : undefined;
}

/**
 * Who may call the OpenAI routes, and how often: API keys (none configured:
 * anyone) and a token bucket per key, or per client address without keys.
 */
export class AccessControl {
  private readonly keys: Map<string, ProxyConfig['auth']['keys'][number]>;
  private readonly limiter = new KeyRateLimiter();

  constructor(private readonly config: Readonly<ProxyConfig>, private readonly metrics: ProxyMetrics) {
    this.keys = new Map(config.auth.keys.map((k) => [k.key, k]));
  }

  /** Whether API keys are configured (requests must then name one). */
  get keysRequired(): boolean {
    return this.keys.size > 0;
  }

  /**
   * Who sends a request to the dashboard's API: the API key's name (or
   * `dashboard` for `dashboardApi.key`), or the client's address when no key
   * is configured at all. Throws `invalid_api_key` when keys are configured
   * and the request names none of them. Rate limits do not apply: the page
   * polls once a second.
   */
  dashboardSender(authorization: string | undefined, clientAddress: string): string {
    const dashboardKey = this.config.dashboardApi.key;
    if (this.keys.size === 0 && dashboardKey === '') return clientAddress;
    const key = bearerToken(authorization);
    if (key !== undefined && dashboardKey !== '' && key === dashboardKey) return 'dashboard';
    const entry = key === undefined ? undefined : this.keys.get(key);
    if (!entry) throw new ProxyError('invalid_api_key', key === undefined ? 'the dashboard API needs a key: send Authorization: Bearer <key>' : 'incorrect API key provided');
    return entry.name;
  }

  /** Throws `invalid_api_key` or `rate_limit_exceeded`; returns who the request is from (key name, or client address without keys). */
  check(authorization: string | undefined, clientAddress: string): string {
    let principal = clientAddress;
    let rate = this.config.rateLimit.requestsPerSecond;
    let burst = this.config.rateLimit.burst;
    if (this.keys.size > 0) {
      const key = bearerToken(authorization);
      const entry = key === undefined ? undefined : this.keys.get(key);
      if (!entry) throw new ProxyError('invalid_api_key', key === undefined ? 'no API key given: send Authorization: Bearer <key>' : 'incorrect API key provided');
      principal = entry.name;
      rate = entry.requestsPerSecond || rate;
      burst = entry.burst || burst;
    }
    if (rate <= 0) return principal;
    const waitMs = this.limiter.take(principal, rate, burst);
    if (waitMs > 0) {
      this.metrics.shed.inc({ model: '', reason: 'rate_limit' });
      throw new ProxyError('rate_limit_exceeded', `rate limit of ${rate} requests per second reached for ${this.keys.size > 0 ? `key "${principal}"` : principal}`, null, retryAfterHeaders(waitMs));
    }
    return principal;
  }
}
