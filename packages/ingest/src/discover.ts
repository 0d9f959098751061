// Which files an ingest reads: directories, files and glob patterns, resolved to sorted, unique paths.
import { stat } from 'node:fs/promises';
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
  const add = (file: string, explicit: boolean): void => {
    const kind = kindOf(file);
    if (kind === undefined && !explicit) return;
    if (!found.has(file)) found.set(file, { path: file, source: sourceOf(file, options.baseDir), kind });
  };
  for (const input of inputs) {
    const abs = path.resolve(options.cwd, input);
    const info = await stat(abs).catch(() => undefined);
    if (info?.isDirectory()) {
      const files = await glob('**/*', { cwd: abs, absolute: true, onlyFiles: true, dot: false, ignore: IGNORED, expandDirectories: false });
      for (const f of files) add(path.normalize(f), false);
    } else if (info !== undefined) {
      add(abs, true);
    } else if (isDynamicPattern(input)) {
      const files = await glob(input, { cwd: options.cwd, absolute: true, onlyFiles: true, dot: false, ignore: IGNORED, expandDirectories: false });
      for (const f of files) add(path.normalize(f), false);
    } else {
      throw new IngestError('input_not_found', `input ${JSON.stringify(input)} is not a file, a directory or a glob pattern`);
    }
  }
  return [...found.values()].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}
