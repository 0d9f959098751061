// Where benchmarks write their JSON: bench/results, one file per benchmark and day.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** bench/results/<name>-<YYYY-MM-DD>.json (the folder made if missing). */
export function datedResultsPath(name: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return join(RESULTS_DIR, `${name}-${new Date().toISOString().slice(0, 10)}.json`);
}
