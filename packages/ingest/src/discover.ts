// Which files an ingest reads: directories, files and glob patterns, resolved to sorted, unique paths.
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { IngestError } from './errors';

/** How a file is split: Markdown-aware, or plain text. */
export type DocumentKind = 'markdown' | 'text';

const KINDS: Record<string, DocumentKind> = { '.md': 'markdown', '.markdown': 'markdown', '.txt': 'text' };

/** Directories never searched inside a directory input or a glob. */
const IGNORED = ['**/node_modules/**', '**/.git/**'];

/** One file to ingest. */
export interface DiscoveredFile {
  /** Absolute path. */
  path: string;
  /** The path relative to the base directory, with `/` separators: the chunks' `source`. */
  source: string;
  /** Undefined for a file named explicitly whose extension is not .md, .markdown or .txt. */
  kind: DocumentKind | undefined;
  /** Why the file cannot be read although it was found (a broken or looping link): reported, not dropped. */
  problem?: IngestError;
}

/** The document kind of a path by its extension (case-insensitive), or undefined. */
export function kindOf(file: string): DocumentKind | undefined {
  return KINDS[path.extname(file).toLowerCase()];
}

/** `file` relative to `baseDir`, with `/` separators whatever the platform. */
export function sourceOf(file: string, baseDir: string): string {
  const rel = path.relative(baseDir, file);
  return (rel === '' ? path.basename(file) : rel).split(path.sep).join('/');
}

/**
 * Resolves inputs to files. A directory contributes every .md, .markdown and .txt file below it
 * (node_modules and .git aside); a glob pattern contributes the files it matches that have one of
 * those extensions; a file named explicitly is always included, and one of another extension is
 * reported as unsupported rather than dropped silently. An input that exists on disk is taken as
 * a path even if it contains glob characters. Throws IngestError `input_not_found` for an input
 * that is neither.
 */
export async function discoverFiles(inputs: readonly string[], options: { cwd: string; baseDir: string }): Promise<DiscoveredFile[]> {
  const found = new Map<string, DiscoveredFile>();
  const add = (file: string, explicit: boolean, problem?: IngestError): void => {
    const kind = kindOf(file);
    if (kind === undefined && !explicit) return;
    if (!found.has(file)) found.set(file, { path: file, source: sourceOf(file, options.baseDir), kind, ...(problem ? { problem } : {}) });
  };
  for (const input of inputs) {
    const abs = path.resolve(options.cwd, input);
    const info = await stat(abs).catch(() => undefined);
    if (info?.isDirectory()) {
      const entries = await glob('**/*', { cwd: abs, absolute: true, onlyFiles: false, dot: false, ignore: IGNORED, expandDirectories: false });
      for (const f of entries) if (!f.endsWith('/')) add(path.normalize(f), false);
      // The glob leaves out links it cannot follow: find them so they are reported, not lost.
      for (const dir of [abs, ...entries.filter((f) => f.endsWith('/'))]) {
        for (const link of await unreadableLinks(path.normalize(dir))) add(link.path, false, link.problem);
      }
    } else if (info !== undefined) {
      add(abs, true);
    } else if (isDynamicPattern(input)) {
      const files = await glob(input, { cwd: options.cwd, absolute: true, onlyFiles: true, dot: false, ignore: IGNORED, expandDirectories: false });
      for (const f of files) add(path.normalize(f), false);
    } else {
      const link = (await unreadableLinks(path.dirname(abs))).find((l) => l.path === abs);
      if (link) add(abs, true, link.problem);
      else throw new IngestError('input_not_found', `input ${JSON.stringify(input)} is not a file, a directory or a glob pattern`);
    }
  }
  const files = [...found.values()].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  // A linked directory can reach one file under two paths: ingest it once, report the other path.
  const seen = new Map<string, string>();
  for (const file of files) {
    if (file.problem) continue;
    const real = await realpath(file.path).catch(() => file.path);
    const first = seen.get(real);
    if (first === undefined) seen.set(real, file.source);
    else file.problem = new IngestError('file_link_loop', `the same file as ${first}, reached through a linked directory`);
  }
  return files;
}

/** Symbolic links directly in `dir` that point nowhere or loop. */
async function unreadableLinks(dir: string): Promise<{ path: string; problem: IngestError }[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: { path: string; problem: IngestError }[] = [];
  for (const entry of entries) {
    if (!entry.isSymbolicLink()) continue;
    const file = path.join(dir, entry.name);
    const error = await stat(file).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    if (error?.code === 'ENOENT') out.push({ path: file, problem: new IngestError('file_broken_link', 'a symbolic link whose target does not exist') });
    else if (error?.code === 'ELOOP') out.push({ path: file, problem: new IngestError('file_link_loop', 'a symbolic link that loops') });
  }
  return out;
}
