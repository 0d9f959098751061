// Rebuilding the text and sparse indexes from a stored document (docs/search.md §1: derived from LMDB).
import { EncodedPayload } from '@ragwire/protocol';
import type { DocRecord } from '../collection';
import type { SparseIndex } from './sparse-index';
import type { TextIndex } from './text-index';

export function indexDocumentText(text: TextIndex, sparse: SparseIndex, doc: DocRecord): void {
  const body = doc.payload !== undefined ? new EncodedPayload(doc.payload).decoded().text : doc.text;
  if (body !== undefined || doc.metadata !== undefined) {
    const s = text.documentText(body, doc.metadata);
    if (s.length > 0) text.add(doc.label, s);
  }
  if (doc.sparse) sparse.add(doc.label, { indices: Uint32Array.from(doc.sparse[0]), values: Float32Array.from(doc.sparse[1]) });
}
