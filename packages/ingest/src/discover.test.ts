import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverFiles, kindOf, sourceOf } from './discover';

let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'ragwire-discover-'));
  const files = [
    'docs/a.md',
    'docs/b.TXT',
    'docs/c.markdown',
    'docs/image.png',
    'docs/deep/d.md',
    'docs/deep/e.txt',
    'docs/node_modules/pkg/readme.md',
    'docs/.git/notes.txt',
    'docs/.hidden.md',
    'other/f.md',
    'other/g.rst',
  ];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), `content of ${f}\n`);
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('kindOf', () => {
  it('splits .md and .markdown as Markdown, .txt as text, case-insensitively; anything else is unsupported', () => {
    expect(kindOf('a.md')).toBe('markdown');
    expect(kindOf('a.MARKDOWN')).toBe('markdown');
    expect(kindOf('dir.md/a.txt')).toBe('text');
    expect(kindOf('a.rst')).toBeUndefined();
    expect(kindOf('README')).toBeUndefined();
  });
});

describe('sourceOf', () => {
  it('is the path relative to the base directory with / separators', () => {
    expect(sourceOf(path.join(root, 'docs', 'deep', 'd.md'), root)).toBe('docs/deep/d.md');
    expect(sourceOf(path.join(root, 'docs', 'a.md'), path.join(root, 'docs'))).toBe('a.md');
  });
});

describe('discoverFiles', () => {
  it('takes every .md, .markdown and .txt file below a directory, sorted, skipping node_modules, .git, dot files and other extensions', async () => {
    const files = await discoverFiles(['docs'], { cwd: root, baseDir: root });
    expect(files.map((f) => f.source)).toEqual(['docs/a.md', 'docs/b.TXT', 'docs/c.markdown', 'docs/deep/d.md', 'docs/deep/e.txt']);
    expect(files.map((f) => f.kind)).toEqual(['markdown', 'text', 'markdown', 'markdown', 'text']);
    for (const f of files) expect(path.isAbsolute(f.path)).toBe(true);
  });

  it('expands glob patterns relative to cwd, keeping only supported extensions', async () => {
    const files = await discoverFiles(['**/deep/*', 'other/*'], { cwd: root, baseDir: root });
    expect(files.map((f) => f.source)).toEqual(['docs/deep/d.md', 'docs/deep/e.txt', 'other/f.md']);
  });

  it('keeps a file named explicitly whatever its extension, marked unsupported so it is reported, not dropped', async () => {
    const files = await discoverFiles(['other/g.rst', 'other/f.md'], { cwd: root, baseDir: root });
    expect(files).toEqual([
      { path: path.join(root, 'other/f.md'), source: 'other/f.md', kind: 'markdown' },
      { path: path.join(root, 'other/g.rst'), source: 'other/g.rst', kind: undefined },
    ]);
  });

  it('lists a file once when several inputs reach it', async () => {
    const files = await discoverFiles(['docs', 'docs/a.md', 'docs/*.md', path.join(root, 'docs/a.md')], { cwd: root, baseDir: root });
    expect(files.filter((f) => f.source === 'docs/a.md')).toHaveLength(1);
    expect(files).toHaveLength(5);
  });

  it('makes sources relative to baseDir, not to cwd', async () => {
    const files = await discoverFiles(['deep'], { cwd: path.join(root, 'docs'), baseDir: root });
    expect(files.map((f) => f.source)).toEqual(['docs/deep/d.md', 'docs/deep/e.txt']);
  });

  it('refuses an input that is neither a path nor a glob with input_not_found; a glob matching nothing is no error', async () => {
    await expect(discoverFiles(['no-such-dir'], { cwd: root, baseDir: root })).rejects.toMatchObject({ code: 'input_not_found', fatal: true });
    await expect(discoverFiles(['nothing/**/*.md'], { cwd: root, baseDir: root })).resolves.toEqual([]);
  });
});

describe('discoverFiles and symbolic links', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ragwire-links-'));
    writeFileSync(path.join(dir, 'ok.md'), 'ok\n');
    symlinkSync('nowhere.md', path.join(dir, 'dangling.md'));
    symlinkSync('loop-b.md', path.join(dir, 'loop-a.md'));
    symlinkSync('loop-a.md', path.join(dir, 'loop-b.md'));
    mkdirSync(path.join(dir, 'sub'));
    symlinkSync('..', path.join(dir, 'sub', 'up'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports dangling and looping links with a code instead of leaving them out, and a file reached twice once', async () => {
    const files = await discoverFiles([dir], { cwd: dir, baseDir: dir });
    const bySource = Object.fromEntries(files.map((f) => [f.source, f.problem?.code ?? 'ok']));
    expect(bySource).toMatchObject({
      'ok.md': 'ok',
      'dangling.md': 'file_broken_link',
      'loop-a.md': 'file_link_loop',
      'loop-b.md': 'file_link_loop',
      'sub/up/ok.md': 'file_link_loop',
    });
    expect(files.filter((f) => f.problem === undefined).map((f) => f.source)).toEqual(['ok.md']);
  });

  it('reports a dangling link named explicitly instead of failing the run', async () => {
    const files = await discoverFiles(['dangling.md'], { cwd: dir, baseDir: dir });
    expect(files.map((f) => [f.source, f.problem?.code])).toEqual([['dangling.md', 'file_broken_link']]);
  });
});
