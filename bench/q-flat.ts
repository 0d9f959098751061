import { gaussianMixture } from '@ragwire/datasets';
import { createIndex, measureReadBandwidth } from '@ragwire/native';
const n = Number(process.argv[2] ?? 200000), dim = Number(process.argv[3] ?? 768);
const set = gaussianMixture({ n, nQueries: 100, dim, clusters: 1000, seed: 42 });
for (const storage of ['f32', 'sq8', 'f16'] as const) {
  const ix = createIndex({ dim, metric: 'l2', kind: 'flat', storage });
  await ix.add(Uint32Array.from({ length: n }, (_, i) => i), set.base);
  const bw = measureReadBandwidth();
  const ts: number[] = [];
  for (let pass = 0; pass < 3; pass++) for (let i = 0; i < 100; i++) { const t0 = performance.now(); ix.searchSync(set.queries.subarray(i * dim, (i + 1) * dim), 10); ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b);
  const p50 = ts[ts.length >> 1]! * 1000;
  const bytes = n * dim * (storage === 'f32' ? 4 : storage === 'f16' ? 2 : 1);
  const bound = bytes / (bw * 1e9) * 1e6;
  console.log(storage, `bw ${bw.toFixed(1)} GB/s p50 ${p50.toFixed(0)} us bound ${bound.toFixed(0)} us -> ${(100 * bound / p50).toFixed(0)}%`);
  ix.close();
}
