// `flat` is exact: it must equal a brute force written in TS, on both real sets, for every metric.
import { describe, it } from 'vitest';
import { bruteForceTopK, loadBgeM3Sentence, loadBigann10k, type Dataset, type Metric } from '@ragwire/datasets';
import { createIndex } from '@ragwire/native';
import { NO_DATA, expectExactTopK, labelRange } from './support';

const METRICS: Metric[] = ['l2', 'ip', 'cosine', 'l1'];

function suite(name: string, data: Dataset | null, k: number): void {
  describe.skipIf(!data)(data ? `flat on ${name}` : `flat on ${name} (${NO_DATA})`, () => {
    for (const metric of METRICS) {
      it(`equals brute force, metric ${metric}, k ${k}`, async () => {
        const d = data!;
        const index = createIndex({ dim: d.dim, metric, kind: 'flat' });
        try {
          await index.add(labelRange(d.nBase), d.base);
          const ref = bruteForceTopK(d.base, d.queries, d.dim, k, metric);
          expectExactTopK(await index.search(d.queries, k), ref, d.base, d.queries, d.dim, metric);
          expectExactTopK(index.searchSync(d.queries, k), ref, d.base, d.queries, d.dim, metric);
        } finally {
          index.close();
        }
      });
    }

    it('equals brute force with labels that are not row numbers', async () => {
      const d = data!;
      const first = 3_000_000_000;
      const index = createIndex({ dim: d.dim, metric: d.metric, kind: 'flat' });
      try {
        await index.add(labelRange(d.nBase, first), d.base);
        const ref = bruteForceTopK(d.base, d.queries, d.dim, 10, d.metric);
        expectExactTopK(await index.search(d.queries, 10), ref, d.base, d.queries, d.dim, d.metric, (l) => l - first);
      } finally {
        index.close();
      }
    });
  });
}

suite('bigann10k', loadBigann10k(), 100);
suite('bge-m3 sentence', loadBgeM3Sentence(), 10);
