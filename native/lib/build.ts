/**
 * Builds an index too large to hand over in one add: rows come from a source one batch at a time
 * (memory holds the index and one batch), progress is reported per batch, and a checkpoint
 * snapshot is written every few batches. A build that finds its checkpoint resumes from it: a
 * process killed mid-way (even with SIGKILL) loses at most the batches since the last checkpoint.
 */
import { existsSync } from 'node:fs';
import { InvalidArgumentError } from '@ragwire/protocol';
import { createIndex, loadIndex, type Index } from './vector-index';
import type { IndexOptions } from './types';
import { checkInt, checkPath } from './validate';

/** Rows [offset, offset + count) of what is being indexed, asked for in order. */
export type BuildSource = (offset: number, count: number) => BuildBatch | Promise<BuildBatch>;
export interface BuildBatch {
  labels: Uint32Array;
  vectors: Float32Array;
}

export interface BuildProgress {
  /** Rows in the index now. */
  added: number;
  total: number;
  /** Rows covered by the last checkpoint written. */
  checkpointed: number;
  /** Rows the build found in its checkpoint when it started (0 for a fresh build). */
  resumedFrom: number;
}

export interface BuildOptions {
  /** The new index's options (a resumed build keeps the checkpoint's). */
  index: IndexOptions;
  /** Rows to index, read through `source`. */
  total: number;
  source: BuildSource;
  /** The checkpoint snapshot: resumed from when present, rewritten as the build goes, left complete at the end. */
  checkpoint: string;
  /** Rows per add. Default 50,000. */
  batchSize?: number;
  /** Batches between checkpoints. Default 4. */
  checkpointEvery?: number;
  onProgress?: (progress: BuildProgress) => void;
}

const MAGIC = 0x52574231; // "RWB1": a checkpoint's userData is MAGIC, then rows read so far (u64)

function progressBytes(rows: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setBigUint64(4, BigInt(rows), true);
  return out;
}

function rowsOf(userData: Uint8Array | null, path: string): number {
  const view = userData && userData.length === 12 ? new DataView(userData.buffer, userData.byteOffset, 12) : null;
  if (!view || view.getUint32(0, true) !== MAGIC) {
    throw new InvalidArgumentError(`${path} is a snapshot, but not a build checkpoint`);
  }
  return Number(view.getBigUint64(4, true));
}

/** Builds (or resumes building) an index of `total` rows; resolves to it, checkpointed complete. */
export async function buildIndex(options: BuildOptions): Promise<Index> {
  const checkpoint = checkPath('checkpoint', options.checkpoint);
  const total = checkInt('total', options.total, 0, Number.MAX_SAFE_INTEGER);
  const batchSize = checkInt('batchSize', options.batchSize ?? 50_000, 1, 0xffffffff);
  const every = checkInt('checkpointEvery', options.checkpointEvery ?? 4, 1, 0xffffffff);
  let index: Index;
  let done = 0;
  if (existsSync(checkpoint)) {
    const loaded = await loadIndex(checkpoint);
    index = loaded;
    try {
      done = rowsOf(loaded.userData, checkpoint);
      if (loaded.dim !== options.index.dim) throw new InvalidArgumentError(`${checkpoint} holds dim ${loaded.dim}, the build asks for ${options.index.dim}`);
      if (done > total) throw new InvalidArgumentError(`${checkpoint} covers ${done} rows, more than the build's ${total}`);
    } catch (error) {
      loaded.close();
      throw error;
    }
  } else {
    index = createIndex(options.index);
  }
  const resumedFrom = done;
  let checkpointed = done;
  let batches = 0;
  try {
    while (done < total) {
      const n = Math.min(batchSize, total - done);
      const { labels, vectors } = await options.source(done, n);
      if (labels.length !== n) throw new InvalidArgumentError(`source returned ${labels.length} labels for rows ${done}..${done + n}`);
      await index.add(labels, vectors);
      done += n;
      batches++;
      if (batches % every === 0 || done === total) {
        await index.save(checkpoint, { userData: progressBytes(done) });
        checkpointed = done;
      }
      options.onProgress?.({ added: done, total, checkpointed, resumedFrom });
    }
    if (checkpointed !== done || !existsSync(checkpoint)) await index.save(checkpoint, { userData: progressBytes(done) });
    return index;
  } catch (error) {
    index.close();
    throw error;
  }
}
