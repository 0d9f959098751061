/**
 * Embedded recall check (`pnpm --filter @ragwire/bench embedded-recall`): build a ragwire hnsw index in this process over real
 * SIFT vectors (../shared/data/bigann10k) or, when that folder is absent, a
 * generated set; answer the queries one at a time; print recall@10 and latency.
 */
import { bruteForceTopK, gaussianMixture, loadBigann10k, recallAtK, type VectorSet } from '@ragwire/datasets';
import { createIndex } from '@ragwire/native';
import { describeMachine, machineLine } from './machine';
import { fmt, quantile } from './stats';

const K = 10;
const EF_SEARCH = 64;

function data(): { set: VectorSet; truth: Int32Array | Uint32Array; stride: number; source: string } {
  const real = loadBigann10k();
  if (real) {
    return { set: real, truth: real.groundTruth, stride: real.gtK, source: 'bigann10k (real SIFT descriptors, ../shared/data)' };
  }
  const set = gaussianMixture({ n: 10_000, nQueries: 100, dim: 128, clusters: 100, spread: 1, seed: 42 });
  const truth = bruteForceTopK(set.base, set.queries, set.dim, K, 'l2').labels;
  return { set, truth, stride: K, source: 'generated: 10,000 x 128 seeded Gaussian mixture (../shared/data is absent)' };
}

const { set, truth, stride, source } = data();
process.stdout.write(`ragwire embedded recall check on ${machineLine(describeMachine())}\n`);
process.stdout.write(`data: ${source}: ${set.nBase} x ${set.dim}, ${set.nQueries} queries, metric ${set.metric}\n`);

const index = createIndex({ dim: set.dim, metric: set.metric, kind: 'hnsw', hnsw: { M: 16, efConstruction: 200, efSearch: EF_SEARCH } });
try {
  const labels = Uint32Array.from({ length: set.nBase }, (_, i) => i);
  let t0 = performance.now();
  await index.add(labels, set.base);
  const buildMs = performance.now() - t0;
  const stats = index.stats();
  process.stdout.write(
    `built hnsw (M 16, efConstruction 200) in ${fmt(buildMs / 1000, 2)} s: ${stats.count} vectors, ` +
      `${fmt(stats.memoryBytes / 2 ** 20, 1)} MiB, ISA ${stats.isa}\n`,
  );

  // One query per call, as an application asks them.
  const found = new Uint32Array(set.nQueries * K);
  const latencies: number[] = [];
  for (let pass = 0; pass < 3; pass++) {
    for (let q = 0; q < set.nQueries; q++) {
      t0 = performance.now();
      const r = await index.search(set.queries.subarray(q * set.dim, (q + 1) * set.dim), K);
      latencies.push((performance.now() - t0) * 1000);
      if (pass === 0) found.set(r.labels, q * K);
    }
  }
  const recall = recallAtK(found, truth, set.nQueries, K, stride);

  t0 = performance.now();
  await index.search(set.queries, K);
  const batchMs = performance.now() - t0;

  process.stdout.write(`recall@${K}: ${recall.toFixed(3)} (efSearch ${EF_SEARCH})\n`);
  process.stdout.write(
    `latency per query (await index.search, ${latencies.length} calls): p50 ${fmt(quantile(latencies, 0.5), 0)} us, ` +
      `p99 ${fmt(quantile(latencies, 0.99), 0)} us\n`,
  );
  process.stdout.write(`all ${set.nQueries} queries in one call: ${fmt(batchMs, 2)} ms (${fmt(set.nQueries / (batchMs / 1000), 0)} queries/s)\n`);
} finally {
  index.close();
}
