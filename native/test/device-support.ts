/**
 * Shared pieces of the device tests: which devices to test, and the
 * comparison of a device's results with the CPU engine's.
 */
import { expect } from 'vitest';
import { NO_LABEL, devices, type Device, type SearchResult } from '@ragwire/native';

const all = devices();

/** The device kinds this build and machine can test: OpenCL (PoCL in CI) and CUDA where a GPU is present. */
export const DEVICE_TARGETS: Device[] = [
  ...(all.some((d) => d.kind === 'opencl') ? (['opencl'] as const) : []),
  ...(all.some((d) => d.kind === 'cuda') ? (['cuda'] as const) : []),
];

export const HAS_CUDA = all.some((d) => d.kind === 'cuda');
export const HAS_OPENCL = all.some((d) => d.kind === 'opencl');
export const NO_DEVICE = 'skipped: no OpenCL or CUDA device (install pocl-opencl-icd and rebuild the addon)';

/** Scores agree within 1e-4 relative (the bound); equal ones, -Infinity included, agree. */
export function scoresAgree(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-4 * Math.abs(a);
}

/** Two scores tie when they differ by float rounding only: then either label is a right answer. */
function tie(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Asserts a device result equals the CPU engine's: rank by rank the same label
 * (or, at a tie, a label with the same score), scores within 1e-4 relative,
 * no label twice in a query's row.
 */
export function expectSameAsCpu(got: SearchResult, want: SearchResult, what: string): void {
  expect(got.k, what).toBe(want.k);
  expect(got.labels.length, what).toBe(want.labels.length);
  const k = want.k;
  const details: string[] = [];
  let bad = 0;
  for (let q = 0; q < want.labels.length / k; q++) {
    const seen = new Set<number>();
    for (let j = 0; j < k; j++) {
      const i = q * k + j;
      const a = want.scores[i]!,
        b = got.scores[i]!;
      const la = want.labels[i]!,
        lb = got.labels[i]!;
      const ok = scoresAgree(a, b) && (la === lb || tie(a, b)) && (lb === NO_LABEL || !seen.has(lb));
      seen.add(lb);
      if (!ok) {
        bad++;
        if (details.length < 5) details.push(`q${q} rank ${j}: cpu label ${la} score ${a}, device label ${lb} score ${b}`);
      }
    }
  }
  expect(bad, `${what}\n${details.join('\n')}`).toBe(0);
}
