// What the write-log applier needs of a shard's store (the shard server implements it over
// @ragwire/store): apply a write at a log position, record a position, export, drop and restore documents.
import type { DeleteRequest, UpsertRequest } from '@ragwire/protocol';
import type { CollectionSpec } from './catalog';

/** What the applier needs of a store (the shard server implements it over @ragwire/store). */
export interface ApplyTarget {
  /** Creates the collection if missing (same settings), so its log can be applied. */
  ensureCollection(spec: CollectionSpec): Promise<void>;
  /** The last log sequence the collection committed (0: none, or no such collection). */
  appliedSeq(collection: string): number;
  /** Applies one write at log sequence `seq`; a store refusal (typed error) still consumes the position. */
  apply(collection: string, seq: number, write: UpsertRequest | DeleteRequest): Promise<void>;
  /** Records, without a write, that the log up to `seq` holds nothing more for the collection (after every apply before it). */
  recordPosition(collection: string, seq: number): Promise<void>;
  /** The documents for which `keep` is true, as UPSERT frames (for a snapshot). Called between applies. */
  exportFrames(collection: string, keep: (id: string) => boolean): Uint8Array[];
  /** Deletes, outside the log, the documents for which `drop` is true (buckets that moved away); resolves to how many. */
  dropWhere(collection: string, drop: (id: string) => boolean): Promise<number>;
  /** Replaces the collection's documents by `writes` and records log position `seq`. */
  restore(collection: string, seq: number, writes: UpsertRequest[]): Promise<void>;
}
