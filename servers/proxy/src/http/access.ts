import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyConfig } from '../config';
import { ProxyError, retryAfterHeaders } from '../errors';
import type { Logger } from 'pino';
import type { ProxyMetrics } from '../metrics';
import { KeyRateLimiter } from './rate-limit';
import { findTenant, readKeysFile, tenantEntry, type Tenant } from './tenants';
import { TokenBudgets } from './token-budget';

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

/** Who sent a request: the key's tenant (when keys are configured), and a name for logs, metrics and rate limits. */
export interface Caller {
  name: string;
  tenant: Tenant | undefined;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Who may call the proxy, and how often: API keys as tenants (none
 * configured: anyone), a token bucket per key (or per client address without
 * keys), and token budgets per key. Keys come from the config and from
 * `auth.keysFile`, held only as hashes; `reload()` re-reads the file.
 */
export class AccessControl {
  private keys = new Map<string, Tenant>();
  private readonly limiter = new KeyRateLimiter();
  readonly budgets: TokenBudgets;
  private readonly metricsKeyed: boolean;

  constructor(
    private readonly config: Readonly<ProxyConfig>,
    private readonly metrics: ProxyMetrics,
    private readonly log?: Logger,
  ) {
    this.budgets = new TokenBudgets(metrics);
    this.keys = this.load();
    const { metricsAccess } = config.auth;
    this.metricsKeyed = metricsAccess === 'key' || (metricsAccess === 'auto' && !LOOPBACK.has(config.host));
  }

  /** Re-reads `auth.keysFile`; a file that does not parse leaves the keys as they were (and says why). Returns the number of keys. */
  reload(): number {
    try {
      this.keys = this.load();
      this.log?.info({ keys: this.keys.size, file: this.config.auth.keysFile }, 'API keys reloaded');
    } catch (error) {
      this.log?.error({ err: (error as Error).message, file: this.config.auth.keysFile }, 'API keys file not reloaded; the previous keys stay');
    }
    return this.keys.size;
  }

  private load(): Map<string, Tenant> {
    const keys = new Map(this.config.auth.keys.map((k, i) => tenantEntry({ ...k }, `auth.keys[${i}]`, i)));
    if (this.config.auth.keysFile !== '') for (const [hash, tenant] of readKeysFile(this.config.auth.keysFile)) keys.set(hash, tenant);
    return keys;
  }

  private tenantOf(authorization: string | undefined, what: string): Tenant {
    const key = bearerToken(authorization);
    const tenant = key === undefined ? undefined : findTenant(this.keys, key);
    if (!tenant)
      throw new ProxyError('invalid_api_key', key === undefined ? `${what} needs an API key: send Authorization: Bearer <key>` : 'incorrect API key provided');
    return tenant;
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
    if (dashboardKey !== '' && bearerToken(authorization) === dashboardKey) return 'dashboard';
    return this.tenantOf(authorization, 'the dashboard API').name;
  }

  /** Who reads /metrics: anyone, unless keys are configured and `auth.metricsAccess` asks for one (see ProxyConfig). */
  metricsReader(authorization: string | undefined, clientAddress: string): string {
    if (!this.metricsKeyed || this.keys.size === 0) return clientAddress;
    return this.tenantOf(authorization, '/metrics').name;
  }

  /** Throws `invalid_api_key`, `rate_limit_exceeded` or `budget_exceeded`; returns who the request is from. */
  check(authorization: string | undefined, clientAddress: string): Caller {
    let name = clientAddress;
    let tenant: Tenant | undefined;
    let rate = this.config.rateLimit.requestsPerSecond;
    let burst = this.config.rateLimit.burst;
    if (this.keys.size > 0) {
      tenant = this.tenantOf(authorization, 'this route');
      name = tenant.name;
      rate = tenant.requestsPerSecond || rate;
      burst = tenant.burst || burst;
    }
    if (rate > 0) {
      const waitMs = this.limiter.take(name, rate, burst);
      if (waitMs > 0) {
        this.metrics.shed.inc({ model: '', reason: 'rate_limit' });
        throw new ProxyError(
          'rate_limit_exceeded',
          `rate limit of ${rate} requests per second reached for ${tenant ? `key "${name}"` : name}`,
          null,
          retryAfterHeaders(waitMs),
        );
      }
    }
    if (tenant) this.budgets.check(tenant);
    return { name, tenant };
  }
}

/** Throws `model_forbidden` unless the caller's key may call `model` (`param` names where the model came from). */
export function allowModel(tenant: Tenant | undefined, model: string, param = 'model'): void {
  if (tenant?.models && !tenant.models.has(model)) throw new ProxyError('model_forbidden', `key "${tenant.name}" may not call model \`${model}\``, param);
}

/** Throws `collection_forbidden` unless the caller's key may retrieve from `collection`. */
export function allowCollection(tenant: Tenant | undefined, collection: string): void {
  if (tenant?.collections && !tenant.collections.has(collection))
    throw new ProxyError('collection_forbidden', `key "${tenant.name}" may not retrieve from collection "${collection}"`, 'ragwire.collection');
}
