// What one write commits to LMDB, in one transaction: the documents and their vectors, the labels it
// adds and removes in the write log, and the collection's record (its seq, and in a fleet its log
// position). The transaction runs later (lmdb-js batches concurrent writers into one sync), so every
// input is the caller's own copy; `removed` is filled when it runs, before `committed` resolves.
import type { EncodedPayload, Payload, SparseVector } from '@ragwire/protocol';
import type { CollectionDbs, CollectionRecord, DocRecord } from './records';

export interface Commit {
  committed: Promise<unknown>;
  /** The labels of the documents the write replaced or removed. */
  removed: number[];
}

export interface UpsertRows {
  ids: readonly string[];
  labels: Uint32Array;
  /** n x dim, owned by the write. */
  vectors: Float32Array;
  dim: number;
  encoded: readonly (EncodedPayload | undefined)[] | undefined;
  payloads: readonly (Payload | null | undefined)[] | undefined;
  sparse: readonly (SparseVector | null)[] | undefined;
}

/** Puts `rows` (replacing documents of the same ids) and removes the documents of `remove`. */
export function commitUpsert(dbs: CollectionDbs, rows: UpsertRows, remove: readonly string[], seq: number, record: CollectionRecord): Commit {
  const { ids, labels, vectors, dim, encoded, payloads, sparse } = rows;
  const removed: number[] = [];
  const committed = dbs.docs.transaction(() => {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const old = dbs.docs.get(id);
      if (old) {
        removed.push(old.label);
        dbs.vectors.remove(old.label);
      }
      const p = encoded?.[i];
      const doc: DocRecord = { label: labels[i]! };
      if (p !== undefined) {
        doc.payload = p.bytes;
        // The caller's object: reading it from the bytes just packed would unpack them again.
        const metadata = payloads![i]!.metadata;
        if (metadata !== undefined) doc.metadata = metadata;
      }
      const v = sparse?.[i];
      if (v) doc.sparse = [Array.from(v.indices), Array.from(v.values)];
      dbs.docs.put(id, doc);
      dbs.vectors.put(labels[i]!, Buffer.from(vectors.buffer, i * dim * 4, dim * 4));
    }
    removeDocs(dbs, remove, removed);
    dbs.log.put(seq, { add: Array.from(labels), remove: removed });
    dbs.collections.put(record.settings.name, record);
  });
  return { committed, removed };
}

/** Removes the documents of `ids` (an id with no document is passed over). */
export function commitDelete(dbs: CollectionDbs, ids: readonly string[], seq: number, record: CollectionRecord): Commit {
  const removed: number[] = [];
  const committed = dbs.docs.transaction(() => {
    removeDocs(dbs, ids, removed);
    dbs.log.put(seq, { add: [], remove: removed });
    dbs.collections.put(record.settings.name, record);
  });
  return { committed, removed };
}

function removeDocs(dbs: CollectionDbs, ids: readonly string[], removed: number[]): void {
  for (const id of ids) {
    const old = dbs.docs.get(id);
    if (!old) continue;
    removed.push(old.label);
    dbs.docs.remove(id);
    dbs.vectors.remove(old.label);
  }
}
