/**
 * Run in a child process by isa-levels.int.test.ts, with RAGWIRE_ISA set: the
 * engine reads the cap once per process. Searches a seeded set on every
 * metric and storage through flat and hnsw, and prints one JSON line:
 * { isa, cases: [{ name, labels, scores }] }.
 */
import { createIndex, isa } from '@ragwire/native';
import { ISA_CASES, isaDataset } from './isa-cases';

const set = isaDataset();
const cases = [];
for (const c of ISA_CASES) {
  const index = createIndex({ dim: set.dim, metric: c.metric, kind: c.kind, storage: c.storage, hnsw: { efConstruction: 64 } });
  try {
    await index.add(
      Uint32Array.from({ length: set.nBase }, (_, i) => i),
      set.base,
    );
    const r = await index.search(set.queries, c.k, { efSearch: 128 });
    cases.push({ name: c.name, labels: Array.from(r.labels), scores: Array.from(r.scores) });
  } finally {
    index.close();
  }
}
process.stdout.write(`${JSON.stringify({ isa: isa(), cases })}\n`);
