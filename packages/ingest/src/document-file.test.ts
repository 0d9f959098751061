import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDocument, readDocument } from './document-file';

const enc = (s: string) => new TextEncoder().encode(s);

describe('decodeDocument (which files are bad)', () => {
  it('decodes UTF-8 text, drops a byte-order mark, and hashes the bytes as they are (BOM included)', () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...enc('héllo ✓\n')]);
    const doc = decodeDocument(bytes, 1024);
    expect(doc.text).toBe('héllo ✓\n');
    expect(doc.bytes).toBe(bytes.length);
    expect(doc.contentHash).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('reports a NUL byte as file_binary, naming the offset', () => {
    expect(() => decodeDocument(Uint8Array.from([0x61, 0x62, 0x00, 0x63]), 1024)).toThrow(
      expect.objectContaining({ code: 'file_binary', fatal: false, message: expect.stringContaining('offset 2') }),
    );
  });

  it('reports invalid UTF-8 (a lone continuation byte, a truncated sequence, Latin-1) as file_not_utf8', () => {
    for (const bad of [
      [0x61, 0x80],
      [0xe2, 0x82],
      [0x63, 0x61, 0x66, 0xe9],
    ]) {
      expect(() => decodeDocument(Uint8Array.from(bad), 1024)).toThrow(expect.objectContaining({ code: 'file_not_utf8' }));
    }
  });

  it('reports more bytes than the limit as file_too_large; exactly the limit is fine', () => {
    expect(() => decodeDocument(enc('12345'), 4)).toThrow(expect.objectContaining({ code: 'file_too_large' }));
    expect(decodeDocument(enc('1234'), 4).text).toBe('1234');
  });
});

describe('readDocument', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ragwire-docfile-'));
    writeFileSync(path.join(dir, 'ok.md'), '# ok\n');
    writeFileSync(path.join(dir, 'big.txt'), 'x'.repeat(5000));
    mkdirSync(path.join(dir, 'a-dir.md'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a text file', async () => {
    const doc = await readDocument(path.join(dir, 'ok.md'), 1024);
    expect(doc.text).toBe('# ok\n');
  });

  it('refuses a file over the limit by its size', async () => {
    await expect(readDocument(path.join(dir, 'big.txt'), 4096)).rejects.toMatchObject({ code: 'file_too_large' });
  });

  it('reports a missing file or a directory as file_unreadable', async () => {
    await expect(readDocument(path.join(dir, 'gone.md'), 1024)).rejects.toMatchObject({ code: 'file_unreadable', message: expect.stringContaining('ENOENT') });
    await expect(readDocument(path.join(dir, 'a-dir.md'), 1024)).rejects.toMatchObject({ code: 'file_unreadable' });
  });
});
