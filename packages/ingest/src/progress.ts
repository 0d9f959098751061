// How the ragwire CLI shows an ingest: a progress bar on a terminal, plain lines otherwise.
import cliProgress, { type SingleBar } from 'cli-progress';
import type { IngestEvent, IngestReport } from './report';

/** Receives a run's events and shows them; `stop()` before printing anything else. */
export interface ProgressRenderer {
  onEvent(event: IngestEvent): void;
  stop(): void;
}

interface Writer {
  write(text: string): unknown;
}

function rate(vectors: number, elapsedMs: number): string {
  return elapsedMs > 0 ? ((vectors * 1000) / elapsedMs).toFixed(1) : '0.0';
}

/** The one line every run ends with, on a terminal or not. */
export function formatSummary(report: IngestReport): string {
  return (
    `ragwire ingest: ${report.files} files: ${report.ingested} ingested, ${report.skipped} skipped (unchanged), ${report.failed.length} failed; ` +
    `${report.chunks} chunks, ${report.vectors} vectors written, ${report.deleted} old chunks removed ` +
    `in ${(report.elapsedMs / 1000).toFixed(2)} s (${report.vectorsPerSecond.toFixed(1)} vectors/s) into "${report.collection}"`
  );
}

/** One line per file outcome, as plain text. */
export function formatFileLine(event: Extract<IngestEvent, { type: 'file' }>): string {
  const at = `[${event.stats.filesDone}/${event.stats.filesTotal}]`;
  if (event.outcome === 'failed') return `${at} failed ${event.source}: ${event.error!.code}: ${event.error!.message}`;
  if (event.outcome === 'skipped') return `${at} skipped ${event.source} (unchanged, ${event.chunks} chunks)`;
  return `${at} ingested ${event.source} (${event.chunks} chunks, ${event.vectors} vectors written)`;
}

/** Plain lines for logs and pipes: one per file, nothing redrawn. */
export function plainRenderer(out: Writer): ProgressRenderer {
  return {
    onEvent(event) {
      if (event.type === 'start') out.write(`ragwire ingest: ${event.stats.filesTotal} files\n`);
      else if (event.type === 'file') out.write(formatFileLine(event) + '\n');
    },
    stop() {},
  };
}

/**
 * A bar of files done out of found, with chunks, vectors per second and an ETA, redrawn on
 * `stream` (a terminal). Failed files are printed above the bar as they happen.
 */
export function barRenderer(stream: NodeJS.WriteStream): ProgressRenderer {
  const multi = new cliProgress.MultiBar({
    stream,
    format: ' {bar} {value}/{total} files | {chunks} chunks | {vps} vectors/s | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    fps: 10,
  });
  let bar: SingleBar | undefined;
  return {
    onEvent(event) {
      const payload = { chunks: event.stats.chunks, vps: rate(event.stats.vectors, event.stats.elapsedMs) };
      if (event.type === 'start') {
        bar = multi.create(event.stats.filesTotal, 0, payload);
        return;
      }
      if (event.type === 'file' && event.outcome === 'failed') multi.log(formatFileLine(event) + '\n');
      bar?.update(event.stats.filesDone, payload);
    },
    stop() {
      multi.stop();
    },
  };
}
