// STYLE.md "One fact, one place": error codes are compared through hasCode, never as bare strings, in
// the source of every package (tests may assert on codes as they like). A switch over `error.code`
// is checked by the compiler against the RagwireErrorCode union, so a misspelt case fails to build.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './processes';

const ROOTS = ['packages', 'servers', 'native/lib', 'examples', 'bench/src'];
const SKIP = new Set(['node_modules', 'dist', 'build', 'results']);

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

describe('house rules', () => {
  it('compares error codes with hasCode, not as bare strings', () => {
    const bare = /(?:[=!]==\s*'RAGWIRE_ERR[A-Z_]*'|'RAGWIRE_ERR[A-Z_]*'\s*[=!]==)/;
    const offenders: string[] = [];
    const files = ROOTS.flatMap((r) => sources(join(REPO_ROOT, r)));
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (bare.test(line)) offenders.push(`${relative(REPO_ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
