// What an ingest run is asked to do: one options object, documented defaults, validated before any work.
import path from 'node:path';
import type { CollectionSpec, CollectionTarget } from '@ragwire/client';
import { checkIntInRange, DEFAULT_LIMITS, InvalidArgumentError } from '@ragwire/protocol';
import type { EmbedFunction, OpenAIEmbeddingsOptions } from './embeddings';
import type { IngestEvent } from './report';

/**
 * Where the chunks go (exactly one of `path` for an embedded data directory, `shards` for shard
 * servers, `client` for an open ShardedCollection; see CollectionTarget), how a collection created
 * on first write is indexed (default cosine, hnsw, f32), and how the files are read, split and embedded.
 */
export interface IngestOptions extends CollectionTarget, CollectionSpec {
  /** Directories, files and glob patterns, relative to `cwd`. */
  inputs: string[];
  /** Embeds a batch of texts. Default: `openAIEmbeddings(embeddings)`, an OpenAI-compatible endpoint. */
  embed?: EmbedFunction;
  /**
   * The default embed function's endpoint and model. `model` also names the model in each
   * chunk's `ingest_key`, so changing it re-embeds every file: set it with an injected `embed` too.
   */
  embeddings?: OpenAIEmbeddingsOptions;
  /** Most characters per chunk. Default 1000. */
  chunkSize?: number;
  /** Characters shared by consecutive chunks. Default 150. */
  chunkOverlap?: number;
  /** Texts per embeddings call. Default 64. */
  batchSize?: number;
  /** Embeddings calls in flight at once. Default 4. */
  concurrency?: number;
  /** A larger file is reported as `file_too_large` and skipped. Default 10 MiB. */
  maxFileBytes?: number;
  /** Each chunk's `source` is its file's path relative to this directory. Default: `cwd`. */
  baseDir?: string;
  /** Directory the inputs are relative to. Default: process.cwd(). */
  cwd?: string;
  /** Called on every step (start, each file's outcome, each write); must not throw. */
  onProgress?: (event: IngestEvent) => void;
}

/** The options with every default filled in. */
export interface ResolvedIngestOptions {
  inputs: string[];
  chunkSize: number;
  chunkOverlap: number;
  batchSize: number;
  concurrency: number;
  maxFileBytes: number;
  baseDir: string;
  cwd: string;
}

export const INGEST_DEFAULTS = Object.freeze({
  chunkSize: 1000, // characters
  chunkOverlap: 150, // characters
  batchSize: 64, // texts per embeddings call
  concurrency: 4, // embeddings calls in flight
  maxFileBytes: 10 * 1024 * 1024, // 10 MiB
});

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${String(value)}`);
  return v;
}

/**
 * Fills in the defaults and checks every field; throws InvalidArgumentError naming the first bad one
 * (LimitExceededError for a batchSize above the protocol's maxWriteBatch).
 */
export function resolveIngestOptions(options: IngestOptions): ResolvedIngestOptions {
  if (!Array.isArray(options.inputs) || options.inputs.length === 0 || !options.inputs.every((i) => typeof i === 'string' && i !== '')) {
    throw new InvalidArgumentError('inputs must list at least one directory, file or glob pattern');
  }
  const chunkSize = positiveInt('chunkSize', options.chunkSize, INGEST_DEFAULTS.chunkSize);
  const chunkOverlap = options.chunkOverlap ?? INGEST_DEFAULTS.chunkOverlap;
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize) {
    throw new InvalidArgumentError(`chunkOverlap must be an integer in 0..${chunkSize - 1} (below chunkSize), got ${String(options.chunkOverlap)}`);
  }
  if (options.embed !== undefined && typeof options.embed !== 'function')
    throw new InvalidArgumentError('embed must be a function (texts) => Promise<Float32Array[]>');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new InvalidArgumentError('onProgress must be a function');
  // One embeddings call's vectors are written in one upsert request.
  const batchSize = checkIntInRange('batchSize', options.batchSize ?? INGEST_DEFAULTS.batchSize, [1, DEFAULT_LIMITS.maxWriteBatch]);
  const cwd = path.resolve(options.cwd ?? process.cwd());
  return {
    inputs: [...options.inputs],
    chunkSize,
    chunkOverlap,
    batchSize,
    concurrency: positiveInt('concurrency', options.concurrency, INGEST_DEFAULTS.concurrency),
    maxFileBytes: positiveInt('maxFileBytes', options.maxFileBytes, INGEST_DEFAULTS.maxFileBytes),
    baseDir: path.resolve(cwd, options.baseDir ?? '.'),
    cwd,
  };
}
