/**
 * The simulator's configuration: one schema, documented defaults (units in
 * comments), validated once, then frozen. The defaults model a mid-size model
 * on one data-centre GPU closely enough for routing and batching decisions to
 * matter the way they do against real vLLM; they are not a calibration.
 */

export interface SimConfig {
  /** Model id served, as listed by /v1/models. */
  model: string;
  /** Embedding model id; requests for it (or for `model`) may use /v1/embeddings. */
  embeddingModel: string;
  /** Embedding dimension. */
  embeddingDim: number;
  /** Host to bind. */
  host: string;
  /** First port; replica i listens on port + i (0: each replica takes an ephemeral port). */
  port: number;
  /** Independent replicas in this process, each with its own engine and prefix cache. */
  replicas: number;
  /** Decode step time = stepBaseMs + stepPerSeqMs x running sequences. */
  stepBaseMs: number; // 6 ms
  stepPerSeqMs: number; // 0.08 ms per running sequence
  /** Prefill cost per prompt token not found in the prefix cache. */
  prefillPerTokenMs: number; // 0.02 ms per token (50k tokens/s)
  /** Prefill cost per prompt token found in the prefix cache. */
  cachedPrefillPerTokenMs: number; // 0.001 ms per token
  /** Serialized per-request cost of the API front end (HTTP, parsing, tokenization). */
  frontendPerRequestMs: number; // 0.5 ms per request
  /** KV cache capacity in tokens; a request reserves prompt + max output tokens. */
  kvCapacityTokens: number; // 200000 tokens
  /** Prefix cache capacity in tokens (block-granular). */
  prefixCacheTokens: number; // 200000 tokens
  /** Tokens per KV block; the prefix cache matches whole blocks only. */
  blockSize: number; // 16 tokens
  /** Most sequences in one running batch (vLLM's max_num_seqs). */
  maxNumSeqs: number; // 256 sequences
  /** Longest prompt + output, in tokens (vLLM's max_model_len). */
  maxModelLen: number; // 32768 tokens
  /** Largest request body accepted. */
  maxBodyBytes: number; // 16 MiB
  /** Seed mixed into generated text. */
  seed: number;
  /** Report vllm:gpu_cache_usage_perc (vLLM < 0.10) instead of vllm:kv_cache_usage_perc. */
  legacyMetricNames: boolean;
}

export const defaultSimConfig: Readonly<SimConfig> = Object.freeze({
  model: 'ragwire/sim-8b',
  embeddingModel: 'ragwire/sim-embed',
  embeddingDim: 384,
  host: '127.0.0.1',
  port: 8000,
  replicas: 1,
  stepBaseMs: 6,
  stepPerSeqMs: 0.08,
  prefillPerTokenMs: 0.02,
  cachedPrefillPerTokenMs: 0.001,
  frontendPerRequestMs: 0.5,
  kvCapacityTokens: 200_000,
  prefixCacheTokens: 200_000,
  blockSize: 16,
  maxNumSeqs: 256,
  maxModelLen: 32_768,
  maxBodyBytes: 16 * 1024 * 1024,
  seed: 0,
  legacyMetricNames: false,
});

const NON_NEGATIVE: (keyof SimConfig)[] = [
  'stepBaseMs', 'stepPerSeqMs', 'prefillPerTokenMs', 'cachedPrefillPerTokenMs', 'frontendPerRequestMs', 'prefixCacheTokens', 'seed',
];
const POSITIVE_INT: (keyof SimConfig)[] = [
  'embeddingDim', 'replicas', 'kvCapacityTokens', 'blockSize', 'maxNumSeqs', 'maxModelLen', 'maxBodyBytes',
];

/** Merges `partial` over the defaults, validates every field and freezes the result. */
export function resolveSimConfig(partial: Partial<SimConfig> = {}): Readonly<SimConfig> {
  for (const key of Object.keys(partial)) {
    if (!(key in defaultSimConfig)) throw new TypeError(`unknown vllm-sim option "${key}"`);
  }
  const config: SimConfig = { ...defaultSimConfig };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  for (const key of NON_NEGATIVE) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`${key} must be a number >= 0, got ${String(v)}`);
  }
  for (const key of POSITIVE_INT) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new TypeError(`${key} must be a positive integer, got ${String(v)}`);
  }
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) throw new TypeError(`port must be an integer in 0..65535, got ${config.port}`);
  if (config.port > 0 && config.port + config.replicas - 1 > 65535) throw new TypeError(`port + replicas - 1 must be <= 65535`);
  for (const key of ['model', 'embeddingModel', 'host'] as const) {
    if (typeof config[key] !== 'string' || config[key].length === 0) throw new TypeError(`${key} must be a non-empty string`);
  }
  return Object.freeze(config);
}
