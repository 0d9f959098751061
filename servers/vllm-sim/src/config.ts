/**
 * The simulator's configuration: one schema, documented defaults (units in
 * comments), validated once, then frozen. The defaults model a mid-size model
 * on one data-centre GPU closely enough for routing and batching decisions to
 * matter the way they do against real vLLM; they are not a calibration.
 */
import { ConfigError, configSchema, parseConfig } from '@ragwire/protocol';

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

const text = { type: 'string', minLength: 1 };
const count = (fallback: number) => ({ type: 'integer', minimum: 1, default: fallback });
const cost = (fallback: number) => ({ type: 'number', minimum: 0, default: fallback });

const simConfigSchema = configSchema<SimConfig>({
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { ...text, default: 'ragwire/sim-8b' },
    embeddingModel: { ...text, default: 'ragwire/sim-embed' },
    embeddingDim: count(384),
    host: { ...text, default: '127.0.0.1' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8000 },
    replicas: count(1),
    stepBaseMs: cost(6),
    stepPerSeqMs: cost(0.08),
    prefillPerTokenMs: cost(0.02),
    cachedPrefillPerTokenMs: cost(0.001),
    frontendPerRequestMs: cost(0.5),
    kvCapacityTokens: count(200_000),
    prefixCacheTokens: cost(200_000),
    blockSize: count(16),
    maxNumSeqs: count(256),
    maxModelLen: count(32_768),
    maxBodyBytes: count(16 * 1024 * 1024),
    seed: cost(0),
    legacyMetricNames: { type: 'boolean', default: false },
  },
});

/** Merges `partial` over the defaults, validates every field and freezes the result. Throws ConfigError naming the field. */
export function resolveSimConfig(partial: Partial<SimConfig> = {}): Readonly<SimConfig> {
  return parseConfig(simConfigSchema, partial, 'vllm-sim option', (config) => {
    if (config.port > 0 && config.port + config.replicas - 1 > 65535)
      throw new ConfigError('vllm-sim option', 'replicas', `port + replicas - 1 must be <= 65535, got ${config.port + config.replicas - 1}`);
    return config;
  });
}

/** The documented defaults, from the schema. */
export const defaultSimConfig: Readonly<SimConfig> = resolveSimConfig();
