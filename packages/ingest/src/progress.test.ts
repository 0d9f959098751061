import { describe, expect, it } from 'vitest';
import { formatSummary, plainRenderer } from './progress';
import type { IngestStats } from './report';

const stats = (filesDone: number): IngestStats => ({ filesTotal: 3, filesDone, ingested: 1, skipped: 1, failed: 1, chunks: 9, vectors: 4, elapsedMs: 500 });

describe('plain progress lines', () => {
  it('prints the file count, then one line per file with its outcome, and nothing for writes', () => {
    let out = '';
    const r = plainRenderer({ write: (s: string) => (out += s) });
    r.onEvent({ type: 'start', stats: stats(0) });
    r.onEvent({ type: 'write', vectors: 4, stats: stats(0) });
    r.onEvent({ type: 'file', source: 'a.md', outcome: 'ingested', chunks: 4, vectors: 4, stats: stats(1) });
    r.onEvent({ type: 'file', source: 'b.txt', outcome: 'skipped', chunks: 5, vectors: 0, stats: stats(2) });
    r.onEvent({
      type: 'file',
      source: 'c.bin',
      outcome: 'failed',
      chunks: 0,
      vectors: 0,
      error: { code: 'file_binary', message: 'a NUL byte at offset 0' },
      stats: stats(3),
    });
    r.stop();
    expect(out.split('\n')).toEqual([
      'ragwire ingest: 3 files',
      '[1/3] ingested a.md (4 chunks, 4 vectors written)',
      '[2/3] skipped b.txt (unchanged, 5 chunks)',
      '[3/3] failed c.bin: file_binary: a NUL byte at offset 0',
      '',
    ]);
  });

  it('ends with one summary line', () => {
    const line = formatSummary({
      collection: 'docs',
      files: 3,
      ingested: 1,
      skipped: 1,
      failed: [{ source: 'c.bin', code: 'file_binary', error: 'x' }],
      chunks: 9,
      vectors: 4,
      deleted: 2,
      elapsedMs: 1500,
      vectorsPerSecond: 4 / 1.5,
    });
    expect(line).toBe(
      'ragwire ingest: 3 files: 1 ingested, 1 skipped (unchanged), 1 failed; 9 chunks, 4 vectors written, 2 old chunks removed in 1.50 s (2.7 vectors/s) into "docs"',
    );
    expect(line).not.toContain('\n');
  });
});
