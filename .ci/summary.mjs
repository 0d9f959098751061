// Prints vitest's counts as the plain line CI reads: "N passed, N failed, N skipped".
import { readFileSync, existsSync } from 'node:fs';

const file = process.argv[2];
if (!file || !existsSync(file)) {
  console.log('0 passed, 1 failed');
  console.error(`summary: no test report at ${file} (the run stopped before the tests)`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
const failed = (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
console.log(`${r.numPassedTests ?? 0} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || (r.numPassedTests ?? 0) === 0 ? 1 : 0);
