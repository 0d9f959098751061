import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IngestError, ingestErrors, isIngestError } from './errors';

const DOC = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url));

describe('ingest errors', () => {
  it('docs/errors.md lists every code with whether it is fatal and what it means, in the order of errors.ts', () => {
    const section = readFileSync(DOC, 'utf8').split('## Ingest errors')[1]?.split('\n## ')[0] ?? '';
    const rows = section.split('\n').filter((l) => /^\| `[a-z0-9_]+` \| (yes|no) \|/.test(l));
    const documented = rows.map((l) => {
      const [code, fatal, meaning] = l
        .split('|')
        .slice(1, 4)
        .map((s) => s.trim());
      return { code: code!.replaceAll('`', ''), fatal: fatal === 'yes', meaning };
    });
    expect(documented).toEqual(Object.entries(ingestErrors).map(([code, e]) => ({ code, fatal: e.fatal, meaning: e.meaning })));
  });

  it('carries its code and whether it stops the run, and is recognised by isIngestError', () => {
    const e = new IngestError('file_binary', 'NUL at 3');
    expect(e).toMatchObject({ name: 'IngestError', code: 'file_binary', fatal: false, message: 'NUL at 3' });
    expect(new IngestError('input_not_found', 'x').fatal).toBe(true);
    expect(isIngestError(e)).toBe(true);
    expect(isIngestError(new Error('file_binary'))).toBe(false);
  });
});
