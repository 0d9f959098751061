// The documents the durability tests write, and how they check them back.
import type { Filter, Payload } from '@ragwire/protocol';

export const DURABILITY_DIM = 8;
export const DURABILITY_COLLECTION = 'durable';

/** Documents n in [from, to): id `d-n`, a vector derived from n, payload { text, metadata: { n } }. */
export function writerBatch(from: number, to: number): { ids: string[]; vectors: Float32Array; payloads: Payload[] } {
  const n = to - from;
  const vectors = new Float32Array(n * DURABILITY_DIM);
  for (let i = 0; i < vectors.length; i++) vectors[i] = Math.sin(from * 7 + i);
  return {
    ids: Array.from({ length: n }, (_, i) => `d-${from + i}`),
    vectors,
    payloads: Array.from({ length: n }, (_, i) => ({ text: `text of d-${from + i}`, metadata: { n: from + i } })),
  };
}

/** Acknowledged ranges [from, to), merged. */
export class AckedRanges {
  private readonly ranges: [number, number][] = [];
  add(from: number, to: number): void {
    this.ranges.push([from, to]);
  }
  get count(): number {
    return this.ranges.reduce((s, [a, b]) => s + b - a, 0);
  }
  /** Every acknowledged n, ascending. */
  all(): number[] {
    return this.ranges.flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i)).sort((x, y) => x - y);
  }
}

export const CHECK_WINDOW = 4096;

/** A query that returns every document with metadata.n in [lo, lo + CHECK_WINDOW), payloads included. */
export function windowQuery(lo: number): { vectors: Float32Array; k: number; filter: Filter; options: { exact: boolean; withPayload: boolean } } {
  return {
    vectors: new Float32Array(DURABILITY_DIM),
    k: CHECK_WINDOW,
    filter: { must: [{ key: 'n', range: { gte: lo, lt: lo + CHECK_WINDOW } }] },
    options: { exact: true, withPayload: true },
  };
}

/**
 * Checks that every acknowledged n is present with its payload, querying window by window through
 * `query`. Returns the ids missing or with a wrong payload.
 */
export async function findLost(
  acked: number[],
  query: (q: ReturnType<typeof windowQuery>) => Promise<{ ids: string[]; payloads?: (Payload | null)[] }>,
): Promise<string[]> {
  const lost: string[] = [];
  let i = 0;
  while (i < acked.length) {
    const lo = acked[i]!;
    const r = await query(windowQuery(lo));
    const found = new Map<string, Payload | null>();
    r.ids.forEach((id, j) => found.set(id, r.payloads?.[j] ?? null));
    for (; i < acked.length && acked[i]! < lo + CHECK_WINDOW; i++) {
      const n = acked[i]!;
      const p = found.get(`d-${n}`);
      if (!p || p.text !== `text of d-${n}` || (p.metadata as { n?: number } | undefined)?.n !== n) lost.push(`d-${n}`);
    }
  }
  return lost;
}
