/**
 * Every error the ingester reports, in one table. A file that cannot be ingested is reported
 * with one of the `file_*`, `embeddings_failed` or `store_failed` codes and skipped; the run goes
 * on. The others stop the run before or while it starts: the input or the configuration is wrong.
 * docs/errors.md lists every code; a test keeps the two in sync.
 */
export const ingestErrors = {
  file_unreadable: { fatal: false, meaning: 'The file could not be opened or read (permissions, a directory, vanished).' },
  file_too_large: { fatal: false, meaning: 'The file is larger than `maxFileBytes` (default 10 MiB).' },
  file_binary: { fatal: false, meaning: 'The file holds NUL bytes: a binary file, not text.' },
  file_not_utf8: { fatal: false, meaning: 'The file is not valid UTF-8.' },
  file_empty: { fatal: false, meaning: 'The file has no bytes: nothing to ingest; chunks of an earlier version are removed.' },
  file_broken_link: { fatal: false, meaning: 'A symbolic link whose target does not exist.' },
  file_link_loop: {
    fatal: false,
    meaning: 'A symbolic link that loops, or a file reached a second time through a linked directory (ingested once, under its first path).',
  },
  file_unsupported: { fatal: false, meaning: 'A file named explicitly has an extension other than .md, .markdown or .txt.' },
  embeddings_failed: { fatal: false, meaning: "The embeddings endpoint refused or failed the file's chunks (after the SDK's retries)." },
  store_failed: { fatal: false, meaning: "Writing the file's chunks, or removing its old ones, failed." },
  input_not_found: { fatal: true, meaning: 'An input is neither an existing file or directory nor a glob pattern.' },
  embeddings_unavailable: {
    fatal: true,
    meaning: 'The first embeddings calls failed on connection, authentication or an unknown model: a configuration error.',
  },
} as const satisfies Record<string, { fatal: boolean; meaning: string }>;

export type IngestErrorCode = keyof typeof ingestErrors;

/** An ingest failure: `code` (see `ingestErrors`) is stable, `message` is for humans. */
export class IngestError extends Error {
  /** True when the run cannot go on (bad input or configuration), false for a failure of one file. */
  readonly fatal: boolean;

  constructor(
    readonly code: IngestErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IngestError';
    this.fatal = ingestErrors[code].fatal;
  }
}

/** True for an IngestError, even one made by another copy of this package. */
export function isIngestError(value: unknown): value is IngestError {
  return (
    value instanceof Error && value.name === 'IngestError' && typeof (value as IngestError).code === 'string' && (value as IngestError).code in ingestErrors
  );
}
