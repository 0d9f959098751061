import { ConfigError, configSchema, DEFAULT_LIMITS, parseConfig } from '@ragwire/protocol';
import { TRACING_DEFAULTS, TRACING_SCHEMA_FIELDS, type TracingConfig } from '@ragwire/tracing';
import { readKeysFile } from './http/tenants';
import { checkRagConfig, defaultRagConfig, RagSettingError, type RagConfig } from './rag/rag-config';

export { ConfigError } from '@ragwire/protocol';

/**
 * The proxy's configuration: one schema with documented defaults (units in
 * comments), merged from a YAML file, the environment and CLI flags (in that
 * order of precedence, lowest first), validated at start with the offending
 * field named, then frozen.
 */

export interface ApiKeyConfig {
  key: string;
  /** Shown in logs and metrics instead of the key. */
  name: string;
  /** Requests per second for this key; 0: the default `rateLimit.requestsPerSecond`. */
  requestsPerSecond: number;
  /** Burst for this key; 0: the default `rateLimit.burst`. */
  burst: number;
  /** Models (and retrieval aliases) this key may call; absent: all. */
  models?: string[];
  /** Collections this key may retrieve from, directly or through an alias; absent: all. */
  collections?: string[];
  /** Tokens this key may spend per clock minute; 0: unlimited. */
  tokensPerMinute?: number;
  /** Tokens this key may spend per UTC day; 0: unlimited. */
  tokensPerDay?: number;
  /** This key's own shard-server token per collection (else the collection's `token`). */
  shardTokens?: Record<string, string>;
}

export interface ProxyConfig {
  host: string; // '127.0.0.1'
  port: number; // 8080; 0 picks an ephemeral port
  /** Base URLs of vLLM-compatible servers, e.g. http://10.0.0.5:8000 */
  upstreams: string[];
  /** Models to serve; empty: every model the upstreams list at /v1/models. */
  models: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimitBytes: number; // 8 MiB
  /** Whole upstream call, first byte to last (streams included). */
  upstreamTimeoutMs: number; // 600000 ms
  /** Until the upstream's response headers arrive. */
  upstreamHeadersTimeoutMs: number; // 60000 ms
  connectTimeoutMs: number; // 2000 ms
  /** Keep-alive connections kept per upstream. */
  connectionsPerUpstream: number; // 128
  auth: {
    /** No keys: no authentication (bind to loopback, or put auth in front). */
    keys: ApiKeyConfig[];
    /**
     * A YAML or JSON file of keys (`keyHash: sha256:<hex>` or `key`, name,
     * models, collections, tokensPerMinute, tokensPerDay, requestsPerSecond,
     * burst), added to `keys`; re-read on SIGHUP. '' for none.
     */
    keysFile: string; // ''
    /**
     * Who may read /metrics: 'open'; 'key' (any API key); 'auto': open on a
     * loopback `host` or without keys, else 'key'.
     */
    metricsAccess: 'auto' | 'open' | 'key'; // 'auto'
  };
  rateLimit: {
    /** Default per-key request rate; 0: unlimited. */
    requestsPerSecond: number; // 0 req/s
    /** Default per-key burst (bucket size); 0: equal to requestsPerSecond. */
    burst: number; // 0 requests
  };
  admission: {
    /** Requests waiting per model beyond those running; more are shed with 429 at once. */
    maxQueue: number; // 256 requests
    /**
     * Longest wait in the queue: a request predicted to wait more than half
     * of it (from the requests in flight and recent upstream latency) gets a
     * 429 at once, one that waits the whole time anyway gets it then.
     */
    maxQueueWaitMs: number; // 30000 ms
    /** Most requests in flight to one upstream. */
    maxConcurrencyPerUpstream: number; // 64 requests
    /** The adaptive limit never drops below this. */
    minConcurrencyPerUpstream: number; // 4 requests
    /** Shrink an upstream's limit when its vllm:num_requests_waiting exceeds this. */
    upstreamWaitingHigh: number; // 0 requests
    /**
     * Consecutive health checks that must see `upstreamWaitingHigh` exceeded
     * before the limit shrinks: vLLM counts every request that arrived during
     * the current step as waiting, so one sample of it is not saturation.
     */
    upstreamWaitingChecks: number; // 3 checks
    /** Shrink an upstream's limit when its KV-cache usage exceeds this fraction. */
    kvCacheUsageHigh: number; // 0.95
  };
  routing: {
    strategy: 'prefix-affinity' | 'least-outstanding' | 'round-robin';
    /** Prompt prefixes are hashed in blocks of this many characters. */
    prefixBlockChars: number; // 256 chars
    /** A shorter prompt has no affinity. */
    minPrefixChars: number; // 512 chars
    /** Affinity needs a remembered prefix covering at least this fraction of the prompt's blocks. */
    minMatchRatio: number; // 0.5
    /** Prefix-block entries remembered (LRU). */
    affinityEntries: number; // 65536 entries
    /** Leave the affine upstream when it has this many more requests in flight than the least loaded. */
    maxImbalance: number; // 16 requests
  };
  retries: {
    /** Attempts per request, the first included; a stream is never retried after its first byte. */
    maxAttempts: number; // 3
    baseDelayMs: number; // 25 ms, doubled per attempt, full jitter
    maxDelayMs: number; // 1000 ms
  };
  health: {
    /** Poll each upstream's /metrics (gauges and liveness) this often. */
    intervalMs: number; // 1000 ms
    timeoutMs: number; // 1000 ms
  };
  embeddingsBatching: {
    enabled: boolean; // true
    /** Most inputs in one upstream call. */
    maxItems: number; // 64 inputs
    /** Most estimated tokens (chars / 4) in one upstream call. */
    maxTokens: number; // 16384 tokens
    /** Longest a first input waits for company. */
    maxWaitMs: number; // 2 ms
  };
  completionsBatching: {
    /**
     * Coalesce concurrent non-streaming /v1/completions calls (one string prompt, n = 1) that share
     * every sampling parameter into one list-prompt upstream call. Usage in a coalesced answer is
     * apportioned (an estimate), hence off by default.
     */
    enabled: boolean; // false
    /** Most prompts in one upstream call. */
    maxItems: number; // 32 prompts
    /** Most estimated prompt tokens (chars / 4) in one upstream call. */
    maxTokens: number; // 32768 tokens
    /** Longest a first prompt waits for company. */
    maxWaitMs: number; // 2 ms
  };
  cache: {
    /** Exact response cache for non-streaming requests with temperature 0. */
    enabled: boolean; // false
    maxEntries: number; // 1000 responses
    ttlMs: number; // 300000 ms
  };
  dashboard: {
    /** Serve the live dashboard at /dashboard (open, like /metrics); false: no /dashboard routes at all. */
    enabled: boolean; // true
    /** Seconds of per-stage latency history kept and charted (at most 3600). */
    windowSeconds: number; // 300 s
    /** Longest an A/B run may take before it answers `ab_failed`. */
    abTimeoutMs: number; // 120000 ms
  };
  /** OpenTelemetry traces (W3C traceparent in and out, spans per stage), exported over OTLP/HTTP; serviceName 'ragwire-proxy'. */
  tracing: TracingConfig;
  /** Retrieval inside the proxy: collections, and model aliases bound to them (see rag/rag-config.ts). */
  rag: RagConfig;
  /** Who may use the dashboard's API (series, stages, A/B), and how much. */
  dashboardApi: {
    /**
     * A key for the dashboard's API only, accepted besides the API keys; ''
     * for none. With API keys or this key set, the dashboard's API answers
     * 401 without one (the page and its static assets stay open: they hold
     * no data).
     */
    key: string; // ''
    /** Distinct stage names one sender (key, or address without keys) may open through POST /dashboard/api/stages. */
    stagesPerSender: number; // 8 stages
    /** Stage samples one sender may post per second (a token bucket with one second of burst). */
    samplesPerSenderPerSecond: number; // 2000 samples/s
  };
}

export const defaultProxyConfig: ProxyConfig = {
  host: '127.0.0.1',
  port: 8080,
  upstreams: [],
  models: [],
  logLevel: 'info',
  bodyLimitBytes: 8 * 1024 * 1024,
  upstreamTimeoutMs: 600_000,
  upstreamHeadersTimeoutMs: 60_000,
  connectTimeoutMs: 2_000,
  connectionsPerUpstream: 128,
  auth: { keys: [], keysFile: '', metricsAccess: 'auto' },
  rateLimit: { requestsPerSecond: 0, burst: 0 },
  admission: {
    maxQueue: 256,
    maxQueueWaitMs: 30_000,
    maxConcurrencyPerUpstream: 64,
    minConcurrencyPerUpstream: 4,
    upstreamWaitingHigh: 0,
    upstreamWaitingChecks: 3,
    kvCacheUsageHigh: 0.95,
  },
  routing: { strategy: 'prefix-affinity', prefixBlockChars: 256, minPrefixChars: 512, minMatchRatio: 0.5, affinityEntries: 65_536, maxImbalance: 16 },
  retries: { maxAttempts: 3, baseDelayMs: 25, maxDelayMs: 1_000 },
  health: { intervalMs: 1_000, timeoutMs: 1_000 },
  embeddingsBatching: { enabled: true, maxItems: 64, maxTokens: 16_384, maxWaitMs: 2 },
  completionsBatching: { enabled: false, maxItems: 32, maxTokens: 32_768, maxWaitMs: 2 },
  cache: { enabled: false, maxEntries: 1_000, ttlMs: 300_000 },
  dashboard: { enabled: true, windowSeconds: 300, abTimeoutMs: 120_000 },
  dashboardApi: { key: '', stagesPerSender: 8, samplesPerSenderPerSecond: 2_000 },
  tracing: { ...TRACING_DEFAULTS, serviceName: 'ragwire-proxy' },
  rag: defaultRagConfig,
};

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends (infer U)[] ? (U extends object ? Partial<U>[] : U[]) : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

const WHERE = 'config field';

const text = { type: 'string', minLength: 1 };
const names = { type: 'array', items: text };
const positive = { type: 'number', exclusiveMinimum: 0 };
const nonNegative = { type: 'number', minimum: 0 };
const count = { type: 'integer', minimum: 1 };
const fraction = { type: 'number', exclusiveMinimum: 0, maximum: 1 };
const bool = { type: 'boolean' };
const section = (properties: Record<string, object>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });

const apiKeySchema = {
  type: ['string', 'object'],
  minLength: 1,
  additionalProperties: false,
  required: ['key'],
  properties: {
    key: text,
    name: text,
    requestsPerSecond: nonNegative,
    burst: nonNegative,
    models: names,
    collections: names,
    tokensPerMinute: nonNegative,
    tokensPerDay: nonNegative,
    shardTokens: { type: 'object', additionalProperties: text },
  },
};

const proxyConfigSchema = configSchema<ProxyConfig>(
  section({
    host: text,
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    upstreams: { type: 'array', minItems: 1, items: text },
    models: names,
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    bodyLimitBytes: count,
    upstreamTimeoutMs: positive,
    upstreamHeadersTimeoutMs: positive,
    connectTimeoutMs: positive,
    connectionsPerUpstream: count,
    auth: section({ keys: { type: 'array', items: apiKeySchema }, keysFile: { type: 'string' }, metricsAccess: { enum: ['auto', 'open', 'key'] } }),
    rateLimit: section({ requestsPerSecond: nonNegative, burst: nonNegative }),
    admission: section({
      maxQueue: { type: 'integer', minimum: 0 },
      maxQueueWaitMs: positive,
      maxConcurrencyPerUpstream: count,
      minConcurrencyPerUpstream: count,
      upstreamWaitingHigh: nonNegative,
      upstreamWaitingChecks: count,
      kvCacheUsageHigh: fraction,
    }),
    routing: section({
      strategy: { enum: ['prefix-affinity', 'least-outstanding', 'round-robin'] },
      prefixBlockChars: count,
      minPrefixChars: positive,
      minMatchRatio: fraction,
      affinityEntries: count,
      maxImbalance: positive,
    }),
    retries: section({ maxAttempts: count, baseDelayMs: nonNegative, maxDelayMs: positive }),
    health: section({ intervalMs: positive, timeoutMs: positive }),
    embeddingsBatching: section({ enabled: bool, maxItems: count, maxTokens: positive, maxWaitMs: nonNegative }),
    completionsBatching: section({ enabled: bool, maxItems: count, maxTokens: positive, maxWaitMs: nonNegative }),
    cache: section({ enabled: bool, maxEntries: count, ttlMs: positive }),
    dashboard: section({ enabled: bool, windowSeconds: { type: 'integer', minimum: 1, maximum: 3600 }, abTimeoutMs: positive }),
    dashboardApi: section({ key: { type: 'string' }, stagesPerSender: count, samplesPerSenderPerSecond: positive }),
    tracing: section(TRACING_SCHEMA_FIELDS),
    // Collections and aliases are checked entry by entry by rag-config.ts, which also checks a request's `ragwire` field.
    rag: section({
      collections: { type: 'object' },
      aliases: { type: 'object' },
      defaultK: count,
      maxK: { type: 'integer', minimum: 1, maximum: DEFAULT_LIMITS.maxK },
      timeoutMs: positive,
    }),
  }),
);

/** Mappings taken whole from the layer that sets them (their keys are names, not fields). */
const MAPPINGS = new Set(['rag.collections', 'rag.aliases']);

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>, path: string): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const field = path ? `${path}.${key}` : key;
    const current = target[key];
    if (isMapping(value) && isMapping(current) && !MAPPINGS.has(field)) {
      const nested = { ...current };
      mergeInto(nested, value, field);
      target[key] = nested;
    } else {
      target[key] = value;
    }
  }
}

/** What the schema cannot say: URLs, key entries filled in, min <= max, the keys file readable, rag entries. */
function refine(config: ProxyConfig): ProxyConfig {
  const upstreams = config.upstreams.map((u, i) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new ConfigError(WHERE, `upstreams[${i}]`, `not a URL: ${JSON.stringify(u)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new ConfigError(WHERE, `upstreams[${i}]`, `must be http:// or https://, got ${url.protocol}`);
    return url.origin;
  });
  const keys = config.auth.keys.map((k, i) => {
    const entry: Partial<ApiKeyConfig> & { key: string } = typeof k === 'string' ? { key: k } : k;
    return { ...entry, name: entry.name ?? `key${i}`, requestsPerSecond: entry.requestsPerSecond ?? 0, burst: entry.burst ?? 0 };
  });
  if (config.auth.keysFile !== '') {
    try {
      readKeysFile(config.auth.keysFile);
    } catch (error) {
      throw new ConfigError(WHERE, 'auth.keysFile', `${config.auth.keysFile}: ${(error as Error).message}`);
    }
  }
  if (config.admission.minConcurrencyPerUpstream > config.admission.maxConcurrencyPerUpstream) {
    throw new ConfigError(WHERE, 'admission.minConcurrencyPerUpstream', 'must be <= admission.maxConcurrencyPerUpstream');
  }
  let rag: RagConfig;
  try {
    rag = checkRagConfig(config.rag);
  } catch (error) {
    if (error instanceof RagSettingError) throw new ConfigError(WHERE, error.field, error.message);
    throw error;
  }
  return { ...config, upstreams, auth: { ...config.auth, keys }, rag };
}

/**
 * Merges `layers` (lowest precedence first) over the defaults, validates every
 * field against one schema and returns a deep-frozen config. Throws ConfigError
 * naming the field.
 */
export function resolveProxyConfig(...layers: DeepPartial<ProxyConfig>[]): Readonly<ProxyConfig> {
  const merged = structuredClone(defaultProxyConfig) as unknown as Record<string, unknown>;
  for (const layer of layers) {
    if (!isMapping(layer)) throw new ConfigError(WHERE, '(root)', 'must be a mapping');
    mergeInto(merged, layer, '');
  }
  return parseConfig(proxyConfigSchema, merged, WHERE, refine);
}

/** Config layer from RAGWIRE_PROXY_* environment variables. */
export function configFromEnv(env: NodeJS.ProcessEnv): DeepPartial<ProxyConfig> {
  const layer: DeepPartial<ProxyConfig> = {};
  if (env.RAGWIRE_PROXY_HOST) layer.host = env.RAGWIRE_PROXY_HOST;
  if (env.RAGWIRE_PROXY_PORT) layer.port = Number(env.RAGWIRE_PROXY_PORT);
  if (env.RAGWIRE_PROXY_UPSTREAMS)
    layer.upstreams = env.RAGWIRE_PROXY_UPSTREAMS.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (env.RAGWIRE_PROXY_MODELS)
    layer.models = env.RAGWIRE_PROXY_MODELS.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (env.RAGWIRE_PROXY_API_KEYS)
    layer.auth = {
      keys: env.RAGWIRE_PROXY_API_KEYS.split(',')
        .map((key) => ({ key: key.trim() }))
        .filter((k) => k.key),
    };
  if (env.RAGWIRE_PROXY_KEYS_FILE) layer.auth = { ...layer.auth, keysFile: env.RAGWIRE_PROXY_KEYS_FILE };
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) layer.tracing = { enabled: true, otlpEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT };
  if (env.RAGWIRE_PROXY_DASHBOARD_KEY) layer.dashboardApi = { key: env.RAGWIRE_PROXY_DASHBOARD_KEY };
  if (env.RAGWIRE_PROXY_LOG_LEVEL) layer.logLevel = env.RAGWIRE_PROXY_LOG_LEVEL as ProxyConfig['logLevel'];
  return layer;
}
