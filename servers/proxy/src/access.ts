import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyConfig } from './config';
import { ProxyError, retryAfterHeaders } from './errors';
import type { ProxyMetrics } from './metrics';
import { KeyRateLimiter } from './rate-limit';

const REQUEST_ID = /^[\w.:@+\-=/]{1,200}$/;

/** The client's `x-request-id` when it is a sane token, else a fresh UUID; passed upstream and back. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
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

  /** Throws `invalid_api_key` or `rate_limit_exceeded`; returns when the request may go on. */
  check(authorization: string | undefined, clientAddress: string): void {
    let principal = clientAddress;
    let rate = this.config.rateLimit.requestsPerSecond;
    let burst = this.config.rateLimit.burst;
    if (this.keys.size > 0) {
      const key = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
      const entry = key === undefined ? undefined : this.keys.get(key);
      if (!entry) throw new ProxyError('invalid_api_key', key === undefined ? 'no API key given: send Authorization: Bearer <key>' : 'incorrect API key provided');
      principal = entry.name;
      rate = entry.requestsPerSecond || rate;
      burst = entry.burst || burst;
    }
    if (rate <= 0) return;
    const waitMs = this.limiter.take(principal, rate, burst);
    if (waitMs > 0) {
      this.metrics.shed.inc({ model: '', reason: 'rate_limit' });
      throw new ProxyError('rate_limit_exceeded', `rate limit of ${rate} requests per second reached for ${this.keys.size > 0 ? `key "${principal}"` : principal}`, null, retryAfterHeaders(waitMs));
    }
  }
}
