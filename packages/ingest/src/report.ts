// What an ingest run tells its caller: progress events while it runs, a report when it ends.
import type { IngestErrorCode } from './errors';

/** A file that was reported and skipped. */
export interface FailedFile {
  source: string;
  code: IngestErrorCode;
  error: string;
}

/** Running totals, carried by every progress event. */
export interface IngestStats {
  /** Files found by the inputs. */
  filesTotal: number;
  /** Files finished: ingested, skipped or failed. */
  filesDone: number;
  ingested: number;
  skipped: number;
  failed: number;
  /** Chunks of the files finished without failure (kept or written). */
  chunks: number;
  /** Vectors embedded and written. */
  vectors: number;
  elapsedMs: number;
}

/** One step of a run, for progress displays. */
export type IngestEvent =
  | { type: 'start'; stats: IngestStats }
  | {
      type: 'file';
      source: string;
      /** ingested: chunks were written or old ones removed; skipped: unchanged; failed: see `error`. */
      outcome: 'ingested' | 'skipped' | 'failed';
      /** The file's chunks (0 for a failed file). */
      chunks: number;
      /** Vectors written for it in this run. */
      vectors: number;
      error?: { code: IngestErrorCode; message: string };
      stats: IngestStats;
    }
  | { type: 'write'; vectors: number; stats: IngestStats };

/** The outcome of a run. */
export interface IngestReport {
  collection: string;
  /** Files found by the inputs. */
  files: number;
  /** Files whose chunks were written (all, or the missing ones) or whose old chunks were removed. */
  ingested: number;
  /** Files unchanged since they were last ingested: every chunk present, nothing stale. */
  skipped: number;
  /** Files reported and skipped, with why. */
  failed: FailedFile[];
  /** Chunks of the files ingested or skipped. */
  chunks: number;
  /** Vectors embedded and written. */
  vectors: number;
  /** Old chunks removed (of files that changed, or shrank to nothing). */
  deleted: number;
  elapsedMs: number;
  /** vectors / elapsed seconds. */
  vectorsPerSecond: number;
}
