// docs/search.md §1: the text index's snapshot, for a fast start. It keeps the forward index (each
// document's distinct terms and frequencies), so loading rebuilds the postings without tokenizing.
// Labels are never reused and a document's text changes only with a new label, so a snapshot of
// any age is brought up to date from LMDB alone: drop the labels no longer live, tokenize the live
// ones it lacks. A file of another collection, other settings or a bad checksum is ignored (rebuilt).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { TextSettings } from '@ragwire/protocol';
import { TextIndex } from './text-index';

const FORMAT = 'ragwire-text-index/1';

interface SnapshotFile {
  format: string;
  incarnation: string;
  settings: TextSettings;
  /** Per document: label, then its terms and frequencies. */
  docs: [number, string[], number[]][];
}

export function saveTextIndex(index: TextIndex, path: string, incarnation: string): number {
  const body = JSON.stringify({ format: FORMAT, incarnation, settings: index.settings, docs: [...index.documents()] } satisfies SnapshotFile);
  const data = `${createHash('sha256').update(body).digest('hex')}\n${body}`;
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
  return Buffer.byteLength(data);
}

/** The snapshot's index, or null when there is none or it does not belong to this collection. */
export function loadTextIndex(path: string, incarnation: string, settings: TextSettings): TextIndex | null {
  if (!existsSync(path)) return null;
  try {
    const data = readFileSync(path, 'utf8');
    const nl = data.indexOf('\n');
    const body = data.slice(nl + 1);
    if (createHash('sha256').update(body).digest('hex') !== data.slice(0, nl)) return null;
    const file = JSON.parse(body) as SnapshotFile;
    if (file.format !== FORMAT || file.incarnation !== incarnation || JSON.stringify(file.settings) !== JSON.stringify(settings)) return null;
    const index = new TextIndex(settings);
    for (const [label, terms, tfs] of file.docs) index.addTerms(label, terms, tfs);
    return index;
  } catch {
    return null;
  }
}
