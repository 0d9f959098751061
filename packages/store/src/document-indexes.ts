// The in-memory indexes a collection keeps by engine label beside its engine index: label -> id, the
// metadata filter index, the text index and the sparse index. A write adds to and removes from all four.
import type { FilterIndex } from './filter-index';
import type { SparseIndex } from './text/sparse-index';
import type { TextIndex } from './text/text-index';
import type { CheckedUpsert, UpsertInput } from './write-input';

export interface DocumentIndexes {
  readonly labelToId: Map<number, string>;
  readonly filters: FilterIndex;
  readonly text: TextIndex;
  readonly sparse: SparseIndex;
}

/** Indexes upserted documents under their new labels. */
export function indexDocuments(
  ix: DocumentIndexes,
  labels: Uint32Array,
  ids: readonly string[],
  payloads: UpsertInput['payloads'],
  sparse: CheckedUpsert['sparse'],
): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    ix.labelToId.set(label, ids[i]!);
    ix.filters.add(label, payloads?.[i]?.metadata);
    const p = payloads?.[i];
    if (p) ix.text.add(label, ix.text.documentText(p.text, p.metadata));
    if (sparse?.[i]) ix.sparse.add(label, sparse[i]!);
  }
}

/** Forgets removed labels. */
export function unindexDocuments(ix: DocumentIndexes, labels: readonly number[]): void {
  for (const label of labels) {
    ix.labelToId.delete(label);
    ix.filters.remove(label);
    ix.text.remove(label);
    ix.sparse.remove(label);
  }
}
