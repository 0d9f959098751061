/** Small numeric helpers for benchmark reports. */

/** The q-quantile (0..1) of `values` (nearest rank). */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Calls the global gc() when node runs with --expose-gc, twice, so RSS deltas mean something. */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  gc();
  gc();
  return true;
}

/**
 * Collects garbage and waits for native finalizers (which free engine memory
 * after a GC, not during it), so the next RSS reading starts from a settled heap.
 */
export async function settleMemory(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function rssBytes(): number {
  return process.memoryUsage().rss;
}

export const MiB = 2 ** 20;

export function fmt(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
