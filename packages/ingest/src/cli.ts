#!/usr/bin/env node
// ragwire: command-line tools. `ragwire ingest` loads .md and .txt files into a collection.
// Exit codes: 0 every file ingested or unchanged; 1 some files failed (listed); 2 bad usage, or the
// run could not start or go on (configuration, unreachable store or embeddings endpoint).
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isRagwireError } from '@ragwire/protocol';
import { DEFAULT_EMBEDDINGS_MODEL, DEFAULT_EMBEDDINGS_URL } from './embeddings';
import { isIngestError } from './errors';
import { ingest } from './ingest';
import { INGEST_DEFAULTS, type IngestOptions } from './options';
import { barRenderer, formatSummary, plainRenderer, type ProgressRenderer } from './progress';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
};
const nonNegativeInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return n;
};
const UNITS: Record<string, number> = { '': 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 };
/** Bytes, with an optional unit: 500000, 512KiB, 10MiB, 1GB. */
const byteSize = (value: string): number => {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) * unit < 1) throw new InvalidArgumentError(`expected a size such as 10MiB or 500000, got "${value}"`);
  return Math.floor(Number(m[1]) * unit);
};
const shardList = (value: string): string[][] => {
  const urls = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (urls.length === 0) throw new InvalidArgumentError('expected one or more shard URLs separated by commas');
  return urls.map((url) => [url]);
};

interface IngestFlags {
  collection: string;
  shards?: string[][];
  data?: string;
  token?: string;
  embeddingsUrl: string;
  model: string;
  apiKey?: string;
  chunkSize: number;
  chunkOverlap: number;
  batch: number;
  concurrency: number;
  maxFileSize: number;
  baseDir?: string;
  metric?: IngestOptions['metric'];
  index?: IngestOptions['kind'];
  json?: boolean;
}

const env = process.env;
const program = new Command('ragwire').description('ragwire command-line tools').version(version).exitOverride();

program
  .command('ingest')
  .description(
    'read .md and .txt files, split them, embed them through an OpenAI-compatible endpoint and store them in a collection; unchanged files are skipped',
  )
  .argument('<inputs...>', 'directories, files or glob patterns (quote globs: "docs/**/*.md")')
  .requiredOption('--collection <name>', 'collection to write (created on first write)')
  .option('--shards <urls>', 'shard servers, comma-separated: tcp://host:port,unix:///path/to.sock', shardList)
  .option('--data <dir>', 'embedded store directory, when no --shards (default ./ragwire-data)')
  .addOption(new Option('--token <token>', 'bearer token for the shard servers').env('RAGWIRE_TOKEN'))
  .option(
    '--embeddings-url <url>',
    'OpenAI-compatible base URL, /v1 included (env RAGWIRE_EMBEDDINGS_URL or OPENAI_BASE_URL)',
    env.RAGWIRE_EMBEDDINGS_URL ?? env.OPENAI_BASE_URL ?? DEFAULT_EMBEDDINGS_URL,
  )
  .option('--model <id>', 'embeddings model (env RAGWIRE_EMBEDDINGS_MODEL)', env.RAGWIRE_EMBEDDINGS_MODEL ?? DEFAULT_EMBEDDINGS_MODEL)
  .addOption(new Option('--api-key <key>', 'API key for the embeddings endpoint').env('OPENAI_API_KEY'))
  .option('--chunk-size <n>', 'most characters per chunk', positiveInt, INGEST_DEFAULTS.chunkSize)
  .option('--chunk-overlap <n>', 'characters shared by consecutive chunks', nonNegativeInt, INGEST_DEFAULTS.chunkOverlap)
  .option('--batch <n>', 'texts per embeddings call', positiveInt, INGEST_DEFAULTS.batchSize)
  .option('--concurrency <n>', 'embeddings calls in flight', positiveInt, INGEST_DEFAULTS.concurrency)
  .option('--max-file-size <size>', 'skip (and report) larger files, e.g. 10MiB', byteSize, INGEST_DEFAULTS.maxFileBytes)
  .option('--base-dir <dir>', "chunks' source paths are relative to this directory (default: the current one)")
  .addOption(new Option('--metric <metric>', 'metric of a collection this run creates (default cosine)').choices(['cosine', 'ip', 'l2', 'l1']))
  .addOption(new Option('--index <kind>', 'index of a collection this run creates (default hnsw)').choices(['flat', 'hnsw', 'bq']))
  .option('--json', 'print the report as JSON instead of the summary line')
  .action(async (inputs: string[], flags: IngestFlags) => {
    if (flags.shards && flags.data !== undefined) throw usage('give --shards or --data, not both');
    const options: IngestOptions = {
      inputs,
      collection: flags.collection,
      ...(flags.shards ? { shards: flags.shards } : { path: flags.data ?? './ragwire-data' }),
      ...(flags.token !== undefined ? { token: flags.token } : {}),
      embeddings: { baseURL: flags.embeddingsUrl, model: flags.model, ...(flags.apiKey !== undefined ? { apiKey: flags.apiKey } : {}) },
      chunkSize: flags.chunkSize,
      chunkOverlap: flags.chunkOverlap,
      batchSize: flags.batch,
      concurrency: flags.concurrency,
      maxFileBytes: flags.maxFileSize,
      ...(flags.baseDir !== undefined ? { baseDir: flags.baseDir } : {}),
      ...(flags.metric ? { metric: flags.metric } : {}),
      ...(flags.index ? { kind: flags.index } : {}),
    };
    const tty = process.stderr.isTTY === true && env.TERM !== 'dumb' && !env.CI;
    const renderer: ProgressRenderer = flags.json ? { onEvent() {}, stop() {} } : tty ? barRenderer(process.stderr) : plainRenderer(process.stdout);
    process.once('SIGINT', () => {
      renderer.stop();
      process.stderr.write('ragwire ingest: interrupted; files already written are kept, a re-run goes on from there\n');
      process.exit(130);
    });
    let report;
    try {
      report = await ingest({ ...options, onProgress: (event) => renderer.onEvent(event) });
    } finally {
      renderer.stop();
    }
    process.stdout.write((flags.json ? JSON.stringify(report) : formatSummary(report)) + '\n');
    process.exitCode = report.failed.length > 0 ? 1 : 0;
  });

class UsageError extends Error {}
function usage(message: string): UsageError {
  return new UsageError(message);
}

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and --version end with code 0; every parse error was already printed by commander.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    const code = isIngestError(error) || isRagwireError(error) ? `${error.code}: ` : '';
    process.stderr.write(`ragwire ingest: ${error instanceof UsageError ? 'usage: ' : ''}${code}${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}
