// Bringing the text and sparse indexes back from LMDB (docs/search.md §1): the text index from its
// snapshot when there is one (drop labels no longer live, tokenize live ones it lacks), else by
// tokenizing every document; the sparse index from the vectors kept in each document. Postings are
// appended in label order, as block-max WAND needs, whatever order LMDB lists the documents in.
import { EncodedPayload, type TextSettings } from '@ragwire/protocol';
import type { DocRecord } from '../records';
import { SparseIndex } from './sparse-index';
import { TextIndex } from './text-index';
import { loadTextIndex } from './text-snapshot';

export class TextRecovery {
  readonly text: TextIndex;
  readonly sparse = new SparseIndex();
  readonly fromSnapshot: boolean;
  readonly #live = new Set<number>();
  readonly #pendingText: { label: number; doc: DocRecord }[] = [];
  readonly #pendingSparse: { label: number; sparse: [number[], number[]] }[] = [];

  constructor(snapshotPath: string, incarnation: string, settings: TextSettings) {
    const loaded = loadTextIndex(snapshotPath, incarnation, settings);
    this.text = loaded ?? new TextIndex(settings);
    this.fromSnapshot = loaded !== null;
  }

  /** Notes one stored document (any order). */
  visit(doc: DocRecord): void {
    this.#live.add(doc.label);
    if (!this.text.has(doc.label)) this.#pendingText.push({ label: doc.label, doc });
    if (doc.sparse) this.#pendingSparse.push({ label: doc.label, sparse: doc.sparse });
  }

  /** Applies what the visits found; returns the indexes. */
  finish(): { text: TextIndex; sparse: SparseIndex } {
    for (const [label] of [...this.text.documents()]) if (!this.#live.has(label)) this.text.remove(label);
    this.#pendingText.sort((a, b) => a.label - b.label);
    for (const { label, doc } of this.#pendingText) {
      const body = doc.payload !== undefined ? new EncodedPayload(doc.payload).decoded().text : doc.text;
      if (body === undefined && doc.metadata === undefined) continue;
      const s = this.text.documentText(body, doc.metadata);
      if (s.length > 0) this.text.add(label, s);
    }
    this.#pendingSparse.sort((a, b) => a.label - b.label);
    for (const { label, sparse } of this.#pendingSparse) this.sparse.add(label, { indices: Uint32Array.from(sparse[0]), values: Float32Array.from(sparse[1]) });
    return { text: this.text, sparse: this.sparse };
  }
}

/** Where a collection's text index snapshot lives, beside its engine snapshot. */
export function textSnapshotPath(engineSnapshotPath: string): string {
  return engineSnapshotPath.replace(/\.snap$/, '') + '.text';
}
