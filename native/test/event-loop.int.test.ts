/*
 * add() and search() run on the engine's pool: while a 200k-vector build and
 * a 10k-query batch run, a 1 ms setInterval keeps firing. The build uses a
 * cheap configuration (dim 32, M 8, efConstruction 64) so it takes seconds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { gaussianMixture } from '@ragwire/datasets';
import { NO_LABEL, createIndex } from '@ragwire/native';
import { labelRange } from './support';

const N = 200_000;
const NQ = 10_000;
const DIM = 32;
const MAX_GAP_MS = 100;

interface Ticks {
  count: number;
  maxGapMs: number;
  elapsedMs: number;
}

/** Runs `work` while a 1 ms interval records how often and how regularly it fired. */
async function whileTicking<T>(work: () => Promise<T>): Promise<{ result: T; ticks: Ticks }> {
  let count = 0;
  let maxGapMs = 0;
  const start = performance.now();
  let last = start;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    count++;
  }, 1);
  try {
    const result = await work();
    const end = performance.now();
    maxGapMs = Math.max(maxGapMs, end - last);
    return { result, ticks: { count, maxGapMs, elapsedMs: end - start } };
  } finally {
    clearInterval(timer);
  }
}

function expectResponsive(t: Ticks, what: string): void {
  const msg = `${what}: ${t.count} ticks in ${t.elapsedMs.toFixed(0)} ms, largest gap ${t.maxGapMs.toFixed(1)} ms`;
  console.log(msg);
  expect(t.maxGapMs, msg).toBeLessThan(MAX_GAP_MS);
  // "Many times": at least one tick per 10 ms on average (an idle loop manages about one per ms).
  expect(t.count, msg).toBeGreaterThanOrEqual(Math.floor(t.elapsedMs / 10));
}

describe('the event loop keeps ticking', () => {
  const data = gaussianMixture({ n: N, nQueries: NQ, dim: DIM, clusters: 500, seed: 3 });
  const index = createIndex({ dim: DIM, metric: 'l2', kind: 'hnsw', hnsw: { M: 8, efConstruction: 64, efSearch: 32 } });
  afterAll(() => index.close());

  it(`during a ${N / 1000}k-vector hnsw build`, async () => {
    const { ticks } = await whileTicking(() => index.add(labelRange(N), data.base));
    expect(index.stats().count).toBe(N);
    expectResponsive(ticks, 'build');
    // The build is long enough for the measurement to mean something.
    expect(ticks.elapsedMs).toBeGreaterThan(200);
  });

  it(`during a ${NQ / 1000}k-query batch`, async () => {
    const { result, ticks } = await whileTicking(() => index.search(data.queries, 10));
    expect(result.labels.length).toBe(NQ * 10);
    expect(result.labels.includes(NO_LABEL)).toBe(false);
    expectResponsive(ticks, 'batch search');
  });

  it('during concurrent searches and a remove', async () => {
    const { ticks } = await whileTicking(() =>
      Promise.all([
        index.search(data.queries.subarray(0, 2000 * DIM), 10),
        index.search(data.queries.subarray(2000 * DIM, 4000 * DIM), 10),
        index.remove(labelRange(1000)),
      ]),
    );
    expectResponsive(ticks, 'concurrent');
    expect(index.stats().count).toBe(N - 1000);
  });
});
