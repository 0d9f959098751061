// The default embed function: an OpenAI-compatible /v1/embeddings endpoint through the openai SDK.
import OpenAI from 'openai';

/** Embeds texts, one vector per text in input order; every vector has the same dimension. */
export type EmbedFunction = (texts: string[]) => Promise<Float32Array[]>;

/** Where the default embed function sends its calls. */
export interface OpenAIEmbeddingsOptions {
  /** Base URL of the API, `/v1` included: the ragwire proxy, vLLM or OpenAI. Default http://127.0.0.1:8080/v1. */
  baseURL?: string;
  /** Bearer key. Default "ragwire" (a proxy without keys ignores it; the SDK needs one). */
  apiKey?: string;
  /** Embeddings model. Default "ragwire/sim-embed". */
  model?: string;
  /** Ask the model for this many dimensions (models that support it). */
  dimensions?: number;
  /** The SDK's retries of a failed call (connection errors, 408, 429, 5xx). Default 2. */
  maxRetries?: number;
  /** One call's timeout. Default 60000 ms. */
  timeoutMs?: number;
}

export const DEFAULT_EMBEDDINGS_URL = 'http://127.0.0.1:8080/v1';
export const DEFAULT_EMBEDDINGS_MODEL = 'ragwire/sim-embed';

/** A float32 vector from the API's answer: base64 of little-endian float32 bytes, or a number array. */
export function decodeEmbedding(embedding: string | number[]): Float32Array {
  if (Array.isArray(embedding)) return Float32Array.from(embedding);
  const bytes = Buffer.from(embedding, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`a base64 embedding of ${bytes.length} bytes is not float32 data`);
  // Copied into a fresh, aligned buffer: Buffer.from may hand out a slice of a shared pool.
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * An EmbedFunction on the `openai` SDK. It asks for base64 (4 bytes a dimension on the wire, as
 * vLLM and OpenAI send it) and returns Float32Arrays in input order.
 */
export function openAIEmbeddings(options: OpenAIEmbeddingsOptions = {}): EmbedFunction {
  const client = new OpenAI({
    baseURL: options.baseURL ?? DEFAULT_EMBEDDINGS_URL,
    apiKey: options.apiKey ?? 'ragwire',
    maxRetries: options.maxRetries ?? 2,
    timeout: options.timeoutMs ?? 60_000,
  });
  const model = options.model ?? DEFAULT_EMBEDDINGS_MODEL;
  return async (texts) => {
    const response = await client.embeddings.create({
      model,
      input: texts,
      encoding_format: 'base64',
      ...(options.dimensions !== undefined ? { dimensions: options.dimensions } : {}),
    });
    if (response.data.length !== texts.length) {
      throw new Error(`the embeddings endpoint answered ${response.data.length} embeddings for ${texts.length} inputs`);
    }
    const out = new Array<Float32Array>(texts.length);
    for (const item of response.data) {
      if (!Number.isInteger(item.index) || item.index < 0 || item.index >= texts.length || out[item.index] !== undefined) {
        throw new Error(`the embeddings endpoint answered a bad or repeated index ${item.index}`);
      }
      out[item.index] = decodeEmbedding(item.embedding as unknown as string | number[]);
    }
    return out;
  };
}
