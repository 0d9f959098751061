// Run by build-resume.int.test.ts in a child process: builds (or resumes) a disk-resident index
// over deterministic rows, printing each progress report as a JSON line. argv: dir total batch every.
import { join } from 'node:path';
import { buildIndex } from '@ragwire/native';
import { resumeRows } from './build-resume-rows';

async function main(): Promise<void> {
  const [dir, total, batch, every] = process.argv.slice(2);
  const index = await buildIndex({
    index: { dim: 32, metric: 'l2', kind: 'hnsw', storage: 'sq8', vectors: 'disk', vectorsPath: join(dir!, 'rows.f32') },
    total: Number(total),
    batchSize: Number(batch),
    checkpointEvery: Number(every),
    checkpoint: join(dir!, 'index.snap'),
    source: (offset, count) => resumeRows(offset, count),
    onProgress: (p) => process.stdout.write(`${JSON.stringify(p)}\n`),
  });
  process.stdout.write(`${JSON.stringify({ finished: index.size })}\n`);
  index.close();
}

main().catch((error) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
