/*
 * A batched, checkpointed build killed with SIGKILL mid-way resumes from its last checkpoint in a
 * new process and ends with every row indexed once, searchable as a build in one go would be.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bruteForceTopK, recallAtK } from '@ragwire/datasets';
import { buildIndex, createIndex, loadIndex, type BuildProgress } from '@ragwire/native';
import { InvalidArgumentError } from '@ragwire/protocol';
import { RESUME_DIM, resumeRows } from './build-resume-rows';
import { expectRagwireError, labelRange } from './support';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(join(here, '..', '..', 'package.json')).resolve('tsx');
const dir = mkdtempSync(join(tmpdir(), 'ragwire-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOTAL = 20_000;
const BATCH = 1_000;
const EVERY = 2;

/** Runs the child; `killWhen` sees each progress report and may SIGKILL it. Resolves to the reports and exit. */
function runChild(killWhen: (p: BuildProgress) => boolean) {
  const child = spawn(
    process.execPath,
    ['--conditions=ragwire-source', '--import', tsx, join(here, 'build-resume-child.ts'), dir, String(TOTAL), String(BATCH), String(EVERY)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const reports: BuildProgress[] = [];
  let finished: number | null = null;
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => {
    buffered += c.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffered.slice(0, nl)) as BuildProgress | { finished: number };
      buffered = buffered.slice(nl + 1);
      if ('finished' in line) finished = line.finished;
      else {
        reports.push(line);
        if (killWhen(line)) child.kill('SIGKILL');
      }
    }
  });
  return new Promise<{ reports: BuildProgress[]; finished: number | null; signal: string | null; code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ reports, finished, signal, code, stderr })),
  );
}

describe('resumable builds', () => {
  it('a build killed with SIGKILL mid-way resumes from its last checkpoint', async () => {
    const first = await runChild((p) => p.checkpointed >= 4 * BATCH && p.added > p.checkpointed);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    expect(first.finished).toBeNull();
    const killedAt = first.reports.at(-1)!;
    expect(killedAt.added).toBeLessThan(TOTAL);
    expect(existsSync(join(dir, 'index.snap'))).toBe(true);

    const second = await runChild(() => false);
    expect(second.code, second.stderr).toBe(0);
    const resumedFrom = second.reports[0]!.resumedFrom;
    // The kill lands after the last report it saw: the checkpoint holds at least what that report named.
    expect(resumedFrom).toBeGreaterThanOrEqual(killedAt.checkpointed);
    expect(resumedFrom).toBeLessThan(TOTAL);
    expect(second.reports[0]!.added).toBe(resumedFrom + BATCH);
    expect(second.finished).toBe(TOTAL);

    const index = await loadIndex(join(dir, 'index.snap'));
    try {
      expect(index.stats()).toMatchObject({ count: TOTAL, deleted: 0, vectors: 'disk', mappedBytes: TOTAL * RESUME_DIM * 4 });
      // Every row is there exactly once under its own label, and the graph finds them.
      const { vectors } = resumeRows(0, TOTAL);
      const sample = 200;
      const queries = new Float32Array(sample * RESUME_DIM);
      for (let i = 0; i < sample; i++) queries.set(vectors.subarray(i * 97 * RESUME_DIM, (i * 97 + 1) * RESUME_DIM), i * RESUME_DIM);
      const exact = await index.search(queries, 1, { exact: true });
      for (let i = 0; i < sample; i++) expect(exact.labels[i]).toBe(i * 97);
      const truth = bruteForceTopK(vectors, queries, RESUME_DIM, 10, 'l2');
      const walked = await index.search(queries, 10);
      expect(recallAtK(walked.labels, truth.labels, sample, 10, 10)).toBeGreaterThanOrEqual(0.95);
    } finally {
      index.close();
    }
  }, 300_000);

  it('reports progress per batch and refuses a snapshot that is not a checkpoint', async () => {
    const seen: BuildProgress[] = [];
    const checkpoint = join(dir, 'small.snap');
    const index = await buildIndex({
      index: { dim: RESUME_DIM, metric: 'l2', kind: 'flat' },
      total: 2500,
      batchSize: 1000,
      checkpoint,
      source: resumeRows,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.map((p) => p.added)).toEqual([1000, 2000, 2500]);
    expect(seen.at(-1)).toMatchObject({ checkpointed: 2500, total: 2500, resumedFrom: 0 });
    expect(index.size).toBe(2500);
    index.close();

    const plain = createIndex({ dim: RESUME_DIM, metric: 'l2', kind: 'flat' });
    await plain.add(labelRange(3), resumeRows(0, 3).vectors);
    const other = join(dir, 'plain.snap');
    await plain.save(other);
    plain.close();
    await expectRagwireError(
      () => buildIndex({ index: { dim: RESUME_DIM, metric: 'l2' }, total: 10, checkpoint: other, source: resumeRows }),
      InvalidArgumentError,
      'RAGWIRE_ERR_INVALID_ARGUMENT',
    );
  });
});
