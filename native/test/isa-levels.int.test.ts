// docs/engine.md: RAGWIRE_ISA caps the kernel table (tests run the suite's
// kernels under each level). Each level this CPU runs gets its own process
// (the cap is read once per process); its searches must equal the exact
// reference (flat f32), reach the reference's recall floor (quantized, hnsw),
// and agree with the other levels.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bruteForceTopK } from '@ragwire/datasets';
import type { SearchResult } from '@ragwire/native';
import { ISA_CASES, isaDataset } from './isa-cases';
import { expectExactTopK, tieAwareRecall } from './support';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(join(here, '..', '..', 'package.json')).resolve('tsx');

/** The levels this CPU runs, from the flags Linux reports (the engine's own test, in C++, asks CPUID). */
function cpuLevels(): string[] {
  if (process.arch === 'arm64') return ['neon', 'scalar'];
  if (process.arch !== 'x64' || !existsSync('/proc/cpuinfo')) return ['scalar'];
  const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/) ?? []);
  const levels = ['scalar'];
  if (['avx2', 'fma', 'f16c'].every((f) => flags.has(f))) levels.push('avx2');
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) levels.push('avx512');
  return levels;
}

interface LevelRun {
  isa: string;
  cases: { name: string; labels: number[]; scores: number[] }[];
}

function runLevel(level: string): LevelRun {
  const out = execFileSync(process.execPath, ['--conditions=ragwire-source', '--import', tsx, join(here, 'isa-searches.ts')], {
    env: { ...process.env, RAGWIRE_ISA: level },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as LevelRun;
}

const ALL = process.arch === 'arm64' ? ['neon', 'scalar'] : ['avx512', 'avx2', 'scalar'];
const supported = cpuLevels();
const set = isaDataset();
const runs = new Map<string, LevelRun>();

describe('kernels under each RAGWIRE_ISA level', () => {
  for (const level of ALL) {
    it.skipIf(!supported.includes(level))(`${level}${supported.includes(level) ? '' : ' (this CPU lacks it)'}`, () => {
      const run = runLevel(level);
      expect(run.isa, 'the cap picks exactly the requested table').toBe(level);
      expect(run.cases.map((c) => c.name)).toEqual(ISA_CASES.map((c) => c.name));
      for (const c of ISA_CASES) {
        const got = run.cases.find((x) => x.name === c.name)!;
        const result: SearchResult = { labels: Uint32Array.from(got.labels), scores: Float32Array.from(got.scores), k: c.k };
        const ref = bruteForceTopK(set.base, set.queries, set.dim, c.k, c.metric);
        if (c.kind === 'flat' && c.storage === 'f32') {
          expectExactTopK(result, ref, set.base, set.queries, set.dim, c.metric);
        } else {
          const recall = tieAwareRecall(result, ref.scores, set.base, set.queries, set.dim, c.metric);
          expect(recall, `${level} ${c.name}`).toBeGreaterThanOrEqual(c.metric === 'ip' && c.kind === 'hnsw' ? 0.85 : 0.95);
        }
      }
      runs.set(level, run);
    });
  }

  it.skipIf(supported.length < 2)('every level returns the same flat f32 answers', () => {
    const levels = [...runs.keys()];
    expect(levels.length, 'the per-level tests ran first').toBe(supported.length);
    const [first, ...rest] = levels.map((l) => runs.get(l)!);
    for (const other of rest) {
      for (const c of ISA_CASES.filter((x) => x.kind === 'flat' && x.storage === 'f32')) {
        const a = first!.cases.find((x) => x.name === c.name)!;
        const b = other.cases.find((x) => x.name === c.name)!;
        for (let i = 0; i < a.scores.length; i++) {
          expect(Math.abs(a.scores[i]! - b.scores[i]!), `${first!.isa} vs ${other.isa} ${c.name} slot ${i}`).toBeLessThanOrEqual(
            1e-4 * (1 + Math.abs(a.scores[i]!)),
          );
        }
      }
    }
  });
});
