/**
 * Shared pieces of the engine tests: data sets, exact references and the
 * assertions that compare engine results with them.
 */
import { expect } from 'vitest';
import { RagwireError } from '@ragwire/protocol';
import { NO_ID, bruteForceTopK, similarity, type Metric, type TopK } from '@ragwire/datasets';
import type { SearchResult } from '@ragwire/native';

/** Title suffix for suites that need ../shared/data when it is absent (vitest shows them as skipped). */
export const NO_DATA = 'skipped: ../shared/data is absent';

/** Labels first, first + 1, ..., first + n - 1. */
export function labelRange(n: number, first = 0): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = first + i;
  return out;
}

/** Float32 accumulation in the engine vs double in the reference: 1e-5 relative, plus 1e-5 absolute. */
export function scoreTolerance(score: number): number {
  return 1e-5 * (1 + Math.abs(score));
}

/**
 * Asserts that `got` is an exact top-k: rank by rank its scores equal the
 * reference scores, every returned label's true score equals its reported
 * score, and no label repeats. Ids at tied scores may differ from the
 * reference (the data README's tie rule), anything else may not.
 * `rowOf` maps an engine label to its base row.
 */
export function expectExactTopK(
  got: SearchResult,
  ref: TopK,
  base: Float32Array,
  queries: Float32Array,
  dim: number,
  metric: Metric,
  rowOf: (label: number) => number = (l) => l,
): void {
  const k = ref.k;
  expect(got.labels.length).toBe(ref.labels.length);
  expect(got.scores.length).toBe(ref.scores.length);
  const nq = ref.labels.length / k;
  let mismatches = 0;
  const details: string[] = [];
  for (let q = 0; q < nq; q++) {
    const seen = new Set<number>();
    for (let j = 0; j < k; j++) {
      const i = q * k + j;
      const label = got.labels[i]!;
      const want = ref.scores[i]!;
      const have = got.scores[i]!;
      if (ref.labels[i] === NO_ID) {
        if (label !== NO_ID || have !== -Infinity) {
          mismatches++;
          details.push(`q${q} rank ${j}: expected an empty slot, got label ${label} score ${have}`);
        }
        continue;
      }
      const exact = label === NO_ID ? NaN : similarity(metric, queries, q, base, rowOf(label), dim);
      const ok = label !== NO_ID && !seen.has(label) && Math.abs(have - want) <= scoreTolerance(want) && Math.abs(exact - have) <= scoreTolerance(exact);
      seen.add(label);
      if (!ok) {
        mismatches++;
        if (details.length < 5) {
          details.push(`q${q} rank ${j}: expected label ${ref.labels[i]} score ${want}, got label ${label} score ${have} (its true score ${exact})`);
        }
      }
    }
  }
  expect(mismatches, details.join('\n')).toBe(0);
}

/** Exact top-k over the rows `allowedRows` only (row i of the base has label labelOf(i)). */
export function filteredReference(base: Float32Array, queries: Float32Array, dim: number, k: number, metric: Metric, allowedRows: Set<number>): TopK {
  return bruteForceTopK(base, queries, dim, k, metric, (row) => allowedRows.has(row));
}

/**
 * Runs `call` (sync or async) and asserts it fails with the error class and
 * code given, recognised both by `instanceof` and by `.code`.
 */
export async function expectRagwireError(
  call: () => unknown,
  errorClass: abstract new (...args: never[]) => RagwireError,
  code: string,
): Promise<RagwireError> {
  let caught: unknown;
  try {
    await call();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}, but nothing was thrown`).toBeDefined();
  expect((caught as { code?: unknown }).code, String(caught)).toBe(code);
  expect(caught).toBeInstanceOf(RagwireError);
  expect(caught).toBeInstanceOf(errorClass);
  return caught as RagwireError;
}

/** Like expectRagwireError for a call that must throw synchronously (searchSync, createIndex, ...). */
export function expectRagwireErrorSync(call: () => unknown, errorClass: abstract new (...args: never[]) => RagwireError, code: string): void {
  let caught: unknown;
  try {
    const r = call();
    if (r instanceof Promise) r.catch(() => undefined);
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code} thrown synchronously, but nothing was thrown`).toBeDefined();
  expect((caught as { code?: unknown }).code, String(caught)).toBe(code);
  expect(caught).toBeInstanceOf(errorClass);
}

/**
 * Recall@k that counts ties as hits: a returned label counts when its true
 * score is at least the k-th best true score (within float tolerance), so two
 * equally near neighbours are interchangeable. `exactScores` holds the exact
 * top-k scores (row-major, k per query) from bruteForceTopK.
 */
export function tieAwareRecall(
  got: SearchResult,
  exactScores: Float32Array,
  base: Float32Array,
  queries: Float32Array,
  dim: number,
  metric: Metric,
  rowOf: (label: number) => number = (l) => l,
): number {
  const k = got.k;
  const nq = got.labels.length / k;
  let hits = 0;
  for (let q = 0; q < nq; q++) {
    const kth = exactScores[q * k + k - 1]!;
    const seen = new Set<number>();
    for (let j = 0; j < k; j++) {
      const label = got.labels[q * k + j]!;
      if (label === NO_ID || seen.has(label)) continue;
      seen.add(label);
      if (similarity(metric, queries, q, base, rowOf(label), dim) >= kth - scoreTolerance(kth)) hits++;
    }
  }
  return hits / (nq * k);
}
