// Prints the counts as the plain line CI reads: "N passed, N failed, N skipped",
// over vitest's JSON report and every ctest JUnit report (.ci/out/ctest-*.xml,
// written by native/scripts/test-cpp.sh).
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const file = process.argv[2];
const counts = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

if (!file || !existsSync(file)) {
  counts.failed += 1;
  problems.push(`summary: no test report at ${file} (the run stopped before the vitest tests)`);
} else {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  counts.passed += r.numPassedTests ?? 0;
  counts.failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
  counts.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if ((r.numPassedTests ?? 0) === 0) problems.push('summary: vitest passed no test');
}

// ctest's JUnit header: <testsuite ... tests="N" failures="N" disabled="N" skipped="N" ...>
const dir = file ? dirname(file) : '.ci/out';
const junits = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => /^ctest-.*\.xml$/.test(f))
      .sort()
  : [];
for (const name of junits) {
  const xml = readFileSync(join(dir, name), 'utf8');
  const head = /<testsuite\b([^>]*)>/.exec(xml);
  const attr = (key) => Number(new RegExp(`\\b${key}="(\\d+)"`).exec(head?.[1] ?? '')?.[1] ?? NaN);
  const [tests, failures, disabled, skipped] = ['tests', 'failures', 'disabled', 'skipped'].map(attr);
  if (![tests, failures, disabled, skipped].every(Number.isInteger)) {
    counts.failed += 1;
    problems.push(`summary: cannot read the counts of ${basename(name)}`);
    continue;
  }
  counts.passed += tests - failures - disabled - skipped;
  counts.failed += failures;
  counts.skipped += disabled + skipped;
  console.error(`summary: ${basename(name)}: ${tests - failures - disabled - skipped} passed, ${failures} failed, ${disabled + skipped} skipped`);
}

for (const p of problems) console.error(p);
console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(counts.failed > 0 || problems.length > 0 ? 1 : 0);
