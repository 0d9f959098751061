// One ingest run: discover, read, split, compare with the store, embed in batches, write, remove stale chunks.
import { CollectionHandle, type ShardedCollection } from '@ragwire/client';
import OpenAI from 'openai';
import { chunkDocument, chunkPayload, ingestKey, type Chunk, type ChunkingIdentity } from './chunks';
import { discoverFiles, type DiscoveredFile } from './discover';
import { readDocument } from './document-file';
import { DEFAULT_EMBEDDINGS_MODEL, openAIEmbeddings, type EmbedFunction } from './embeddings';
import { IngestError, isIngestError, type IngestErrorCode } from './errors';
import { resolveIngestOptions, type IngestOptions, type ResolvedIngestOptions } from './options';
import { deleteStale, planFile } from './reconcile';
import type { FailedFile, IngestEvent, IngestReport, IngestStats } from './report';

/** A file whose chunks are being embedded and written. */
interface FileJob {
  source: string;
  key: string;
  chunks: Chunk[];
  /** Chunks of this run not yet written. */
  remaining: number;
  /** Chunks written in this run. */
  written: number;
  stale: boolean;
  failed: boolean;
  /** The file has no bytes: its old chunks go, and it is reported as `file_empty`. */
  empty: boolean;
}

interface PendingChunk {
  job: FileJob;
  chunk: Chunk;
}

/**
 * Ingests .md and .txt files into a collection. Unchanged files are skipped by content hash (the
 * store is asked, no manifest is kept); a changed file's new chunks are written before its old ones
 * are removed, so an interrupted run never leaves a file without chunks, and the next run repairs
 * a partial write. A file that cannot be read, decoded or embedded is reported in `failed` and the
 * run goes on. Rejects only when the run cannot go on at all: bad options (InvalidArgumentError),
 * an input that does not exist or an embeddings endpoint that cannot be reached (IngestError),
 * a store that cannot be reached or holds another dimension (the client's typed errors).
 */
export async function ingest(options: IngestOptions): Promise<IngestReport> {
  const resolved = resolveIngestOptions(options);
  const run = new IngestRun(options, resolved);
  return run.run();
}

class IngestRun {
  private readonly started = performance.now();
  private readonly embed: EmbedFunction;
  private readonly identity: Omit<ChunkingIdentity, 'kind'>;
  private readonly failed: FailedFile[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pending: PendingChunk[] = [];
  private readonly stats: IngestStats = { filesTotal: 0, filesDone: 0, ingested: 0, skipped: 0, failed: 0, chunks: 0, vectors: 0, elapsedMs: 0 };
  private deleted = 0;
  private target!: CollectionHandle;
  private collection!: ShardedCollection;
  private dim: number | undefined;
  private embeddedOnce = false;
  private fatal: unknown;

  constructor(
    private readonly options: IngestOptions,
    private readonly o: ResolvedIngestOptions,
  ) {
    this.embed = options.embed ?? openAIEmbeddings(options.embeddings);
    const model = options.embeddings?.model ?? (options.embed ? undefined : DEFAULT_EMBEDDINGS_MODEL);
    this.identity = { chunkSize: o.chunkSize, chunkOverlap: o.chunkOverlap, ...(model !== undefined ? { model } : {}) };
  }

  async run(): Promise<IngestReport> {
    const files = await discoverFiles(this.o.inputs, { cwd: this.o.cwd, baseDir: this.o.baseDir });
    this.stats.filesTotal = files.length;
    const target = new CollectionHandle({ ...this.options, batchSize: this.o.batchSize }, 'ingest');
    this.target = target;
    this.collection = target.collection;
    try {
      this.dim = (await target.describe())?.dim;
      this.emit({ type: 'start', stats: this.snapshot() });
      for (const file of files) {
        if (this.fatal !== undefined) break;
        await this.prepare(file);
        while (this.pending.length >= this.o.batchSize && this.fatal === undefined) await this.dispatch(this.pending.splice(0, this.o.batchSize));
      }
      if (this.fatal === undefined && this.pending.length > 0) await this.dispatch(this.pending.splice(0));
      await Promise.all(this.inFlight);
      if (this.fatal !== undefined) throw this.fatal;
    } finally {
      await target.close();
    }
    const elapsedMs = performance.now() - this.started;
    return {
      collection: this.collection.collection,
      files: files.length,
      ingested: this.stats.ingested,
      skipped: this.stats.skipped,
      failed: this.failed,
      chunks: this.stats.chunks,
      vectors: this.stats.vectors,
      deleted: this.deleted,
      elapsedMs,
      vectorsPerSecond: elapsedMs > 0 ? (this.stats.vectors * 1000) / elapsedMs : 0,
    };
  }

  /** Reads, splits and compares one file; queues what must be embedded, or finishes it at once. */
  private async prepare(file: DiscoveredFile): Promise<void> {
    let job: FileJob;
    let missing: number[];
    try {
      if (file.problem) throw file.problem;
      if (file.kind === undefined) throw new IngestError('file_unsupported', 'only .md, .markdown and .txt files are ingested');
      const doc = await readDocument(file.path, this.o.maxFileBytes);
      const identity: ChunkingIdentity = { ...this.identity, kind: file.kind };
      const chunks = await chunkDocument({ source: file.source, text: doc.text, contentHash: doc.contentHash }, identity);
      const key = ingestKey(doc.contentHash, identity);
      let plan;
      try {
        plan = await planFile(this.collection, this.dim, file.source, key, chunks);
      } catch (error) {
        throw new IngestError('store_failed', `could not compare with the stored chunks: ${(error as Error).message}`, { cause: error });
      }
      job = { source: file.source, key, chunks, remaining: plan.missing.length, written: 0, stale: plan.stale, failed: false, empty: doc.bytes === 0 };
      missing = plan.missing;
    } catch (error) {
      this.failFile(file.source, error);
      return;
    }
    if (missing.length === 0) {
      await this.finish(job);
      return;
    }
    for (const i of missing) this.pending.push({ job, chunk: job.chunks[i]! });
  }

  /** Starts one embeddings call (and the write after it) once fewer than `concurrency` are in flight. */
  private async dispatch(batch: PendingChunk[]): Promise<void> {
    while (this.inFlight.size >= this.o.concurrency) await Promise.race(this.inFlight);
    if (this.fatal !== undefined) return;
    const work = this.embedAndWrite(batch).catch((error: unknown) => {
      this.fatal ??= error;
    });
    const tracked = work.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async embedAndWrite(batch: PendingChunk[]): Promise<void> {
    const live = batch.filter((p) => !p.job.failed);
    if (live.length === 0) return;
    const vectors = await this.embedIsolating(live);
    const dim = vectors.find((v) => v !== undefined)?.length;
    for (const [i, item] of live.entries()) {
      const v = vectors[i];
      if (v !== undefined && v.length !== dim) this.failJob(item.job, embeddingsFailed(new Error(`vectors of ${v.length} dimensions among vectors of ${dim}`)));
    }
    const ok = live.flatMap((item, i) => (vectors[i] !== undefined && !item.job.failed ? [{ item, vector: vectors[i]! }] : []));
    if (ok.length === 0 || dim === undefined) return;
    await this.target.ensure(dim); // a refusal (another dimension, no permission) stops the run
    this.dim = dim;
    const jobs = new Set(ok.map((x) => x.item.job));
    try {
      await this.target.upsert(
        ok.map((x) => x.item.chunk.id),
        ok.map((x) => x.vector),
        ok.map((x) => chunkPayload(x.item.chunk)),
      );
    } catch (error) {
      for (const job of jobs) this.failJob(job, new IngestError('store_failed', `writing chunks failed: ${(error as Error).message}`, { cause: error }));
      return;
    }
    this.stats.vectors += ok.length;
    this.emit({ type: 'write', vectors: ok.length, stats: this.snapshot() });
    const finished: FileJob[] = [];
    for (const { item } of ok) {
      item.job.written++;
      if (--item.job.remaining === 0) finished.push(item.job);
    }
    for (const job of finished) await this.finish(job);
  }

  /**
   * Embeds a batch. When the call fails on input (a 4xx other than auth, model or rate limit, or
   * any error of an injected function) and the batch spans several files, each file's chunks are
   * tried alone so one bad file does not fail its neighbours. Entries of failed files stay undefined.
   */
  private async embedIsolating(items: PendingChunk[]): Promise<(Float32Array | undefined)[]> {
    try {
      return await this.embedChecked(items);
    } catch (error) {
      if (!this.embeddedOnce && isUnreachable(error)) {
        throw new IngestError('embeddings_unavailable', `the embeddings endpoint failed: ${(error as Error).message}`, { cause: error });
      }
      const groups = new Map<FileJob, number[]>();
      items.forEach((p, i) => groups.set(p.job, [...(groups.get(p.job) ?? []), i]));
      const out = new Array<Float32Array | undefined>(items.length);
      if (groups.size === 1 || !isInputError(error)) {
        for (const job of groups.keys()) this.failJob(job, embeddingsFailed(error));
        return out;
      }
      for (const [job, indices] of groups) {
        try {
          const vectors = await this.embedChecked(indices.map((i) => items[i]!));
          indices.forEach((i, j) => (out[i] = vectors[j]));
        } catch (e) {
          this.failJob(job, embeddingsFailed(e));
        }
      }
      return out;
    }
  }

  private async embedChecked(items: PendingChunk[]): Promise<Float32Array[]> {
    const vectors = await this.embed(items.map((p) => p.chunk.text));
    if (!Array.isArray(vectors) || vectors.length !== items.length) {
      throw new Error(`the embed function returned ${Array.isArray(vectors) ? vectors.length : typeof vectors} vectors for ${items.length} texts`);
    }
    for (const v of vectors) {
      if (!(v instanceof Float32Array) || v.length === 0) throw new Error('the embed function must return non-empty Float32Arrays');
      if (v.length !== vectors[0]!.length) throw new Error(`the embeddings answered vectors of ${vectors[0]!.length} and ${v.length} dimensions in one call`);
    }
    this.embeddedOnce = true;
    return vectors;
  }

  /** A file whose chunks are all in place: remove its old version, then count it. */
  private async finish(job: FileJob): Promise<void> {
    if (job.failed) return;
    let removed = 0;
    if (job.stale) {
      try {
        removed = await deleteStale(this.collection, job.source, job.key);
      } catch (error) {
        this.failJob(job, new IngestError('store_failed', `removing the old chunks failed: ${(error as Error).message}`, { cause: error }));
        return;
      }
      this.deleted += removed;
    }
    if (job.empty) {
      this.failJob(
        job,
        new IngestError('file_empty', removed > 0 ? `the file has no bytes; its old chunks (${removed}) were removed` : 'the file has no bytes'),
      );
      return;
    }
    const vectors = job.written;
    const outcome = vectors > 0 || job.stale ? 'ingested' : 'skipped';
    this.stats[outcome]++;
    this.stats.filesDone++;
    this.stats.chunks += job.chunks.length;
    this.emit({ type: 'file', source: job.source, outcome, chunks: job.chunks.length, vectors, stats: this.snapshot() });
  }

  private failJob(job: FileJob, error: unknown): void {
    if (job.failed) return;
    job.failed = true;
    this.failFile(job.source, error);
  }

  private failFile(source: string, error: unknown): void {
    if (isIngestError(error) && error.fatal) throw error;
    const code: IngestErrorCode = isIngestError(error) ? error.code : 'store_failed';
    const message = (error as Error)?.message ?? String(error);
    this.failed.push({ source, code, error: message });
    this.stats.failed++;
    this.stats.filesDone++;
    this.emit({ type: 'file', source, outcome: 'failed', chunks: 0, vectors: 0, error: { code, message }, stats: this.snapshot() });
  }

  private snapshot(): IngestStats {
    return { ...this.stats, elapsedMs: performance.now() - this.started };
  }

  private emit(event: IngestEvent): void {
    this.options.onProgress?.(event);
  }
}

function embeddingsFailed(error: unknown): IngestError {
  return new IngestError('embeddings_failed', (error as Error)?.message ?? String(error), { cause: error });
}

/** No answer, or an answer that says the endpoint, key or model is wrong: a configuration error. */
function isUnreachable(error: unknown): boolean {
  if (error instanceof OpenAI.APIConnectionError) return true;
  return error instanceof OpenAI.APIError && (error.status === 401 || error.status === 403 || error.status === 404);
}

/** A failure that may be caused by one of the inputs, so worth retrying per file. */
function isInputError(error: unknown): boolean {
  if (error instanceof OpenAI.APIConnectionError) return false;
  if (error instanceof OpenAI.APIError) return error.status === 400 || error.status === 413 || error.status === 422;
  return true;
}
