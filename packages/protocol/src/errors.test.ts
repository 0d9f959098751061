import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RagwireError, errorClassesByCode, errorFromCode, isRagwireError } from './errors';

const DOC = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url));

function documentedRows(): { code: string; cls: string; status: number }[] {
  return readFileSync(DOC, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| `RAGWIRE_ERR'))
    .map((line) => {
      const [code, cls, status] = line
        .split('|')
        .slice(1, 4)
        .map((s) => s.trim());
      return { code: code!.replaceAll('`', ''), cls: cls!, status: Number(status) };
    });
}

describe('docs/errors.md', () => {
  it('lists every code of errors.ts with its class and status, sorted by code', () => {
    const rows = documentedRows();
    const expected = [
      { code: 'RAGWIRE_ERR', cls: 'RagwireError', status: 500 },
      ...Object.entries(errorClassesByCode).map(([code, cls]) => ({ code, cls: cls.name, status: new cls('x').status })),
    ].sort((a, b) => a.code.localeCompare(b.code));
    expect(rows).toEqual(expected);
    expect(rows.map((r) => r.code)).toEqual([...rows.map((r) => r.code)].sort());
  });
});

describe('error classes', () => {
  it('carry their code, are branded, and round-trip through errorFromCode', () => {
    for (const [code, cls] of Object.entries(errorClassesByCode)) {
      const e = errorFromCode(code, 'm');
      expect(e).toBeInstanceOf(cls);
      expect(e).toBeInstanceOf(RagwireError);
      expect(isRagwireError(e)).toBe(true);
      expect(e.code).toBe(code);
      expect(e.name).toBe(cls.name);
    }
  });
});
