import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MESSAGE_NAMES, wireTypeOf } from './codec';
import { MessageType } from './header';
import { DEFAULT_LIMITS } from './limits';

const DOC = readFileSync(fileURLToPath(new URL('../../../docs/protocol.md', import.meta.url)), 'utf8');

function tableRows(prefix: RegExp): string[][] {
  return DOC.split('\n')
    .filter((line) => prefix.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replaceAll('`', '')),
    );
}

describe('docs/protocol.md', () => {
  it('documents every limit with its default (§8)', () => {
    const rows = tableRows(/^\| `max[A-Za-z]+` \|/);
    const documented = Object.fromEntries(rows.map(([name, def]) => [name, Number(def)]));
    expect(documented).toEqual({ ...DEFAULT_LIMITS });
  });

  it('documents every message type code and its request and reply names (§4)', () => {
    const rows = tableRows(/^\| `0x[0-9a-f]{2}` \|/);
    const documented = Object.fromEntries(rows.map(([code, type]) => [type, Number(code)]));
    expect(documented).toEqual({ ...MessageType });
    const names = new Set(rows.flatMap(([, , , request, reply]) => [request!.split(' ')[0], reply!.split(' ')[0]]));
    for (const name of MESSAGE_NAMES) {
      expect(names.has(name) || ['result', 'error'].includes(name)).toBe(true);
      expect(rows.some(([code]) => Number(code) === wireTypeOf(name).code)).toBe(true);
    }
  });
});
