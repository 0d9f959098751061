// What the write-log applier needs of a shard's store (the shard server implements it over
// @ragwire/store): apply a write at a log position, record a position, export, drop and restore documents.
import { InternalError, decodeFrame, type DeleteRequest, type UpsertRequest } from '@ragwire/protocol';
import type { CollectionSpec } from './catalog';

/** A write of the log at its stream sequence. */
export interface SequencedWrite {
  seq: number;
  write: UpsertRequest | DeleteRequest;
}

/** What the applier needs of a store (the shard server implements it over @ragwire/store). */
export interface ApplyTarget {
  /** Creates the collection if missing (same settings), so its log can be applied. */
  ensureCollection(spec: CollectionSpec): Promise<void>;
  /** The last log sequence the collection committed (0: none, or no such collection). */
  appliedSeq(collection: string): number;
  /** Applies one write at log sequence `seq`; a store refusal (typed error) still consumes the position. */
  apply(collection: string, seq: number, write: UpsertRequest | DeleteRequest): Promise<void>;
  /**
   * Applies consecutive writes (upserts and deletes by ids, in log order) as one store write that
   * commits the last one's sequence, with the result of applying them one by one. Resolves to those the
   * store refused (left out; their positions are consumed with the rest).
   */
  applyGroup(collection: string, writes: readonly SequencedWrite[]): Promise<{ seq: number; error: unknown }[]>;
  /** Records, without a write, that the log up to `seq` holds nothing more for the collection (after every apply before it). */
  recordPosition(collection: string, seq: number): Promise<void>;
  /** The documents for which `keep` is true, as UPSERT frames (for a snapshot). Called between applies. */
  exportFrames(collection: string, keep: (id: string) => boolean): Uint8Array[];
  /** Deletes, outside the log, the documents for which `drop` is true (buckets that moved away); resolves to how many. */
  dropWhere(collection: string, drop: (id: string) => boolean): Promise<number>;
  /**
   * Applies a write, without a log position, to the documents for which `within` is true (the buckets a
   * member is loading below its position): an upsert or a delete by ids keeps only those ids, a delete by
   * filter or of everything deletes only matching documents among them.
   */
  load(collection: string, write: UpsertRequest | DeleteRequest, within: (id: string) => boolean): Promise<void>;
  /** Replaces the collection's documents by `writes` and records log position `seq`. */
  restore(collection: string, seq: number, writes: UpsertRequest[]): Promise<void>;
}

/** The write a log message carries (docs/protocol.md §5.4-§5.5), or undefined, said to `onProblem`, when no replica can apply it. */
export function decodeLogWrite(
  data: Uint8Array,
  collection: string,
  seq: number,
  onProblem: (event: { collection: string; seq: number; error: unknown }) => void,
): UpsertRequest | DeleteRequest | undefined {
  try {
    const { message } = decodeFrame(data);
    if (message.type !== 'upsert' && message.type !== 'delete') throw new InternalError(`log message ${seq} of ${collection} is a ${message.type}`);
    return message;
  } catch (error) {
    onProblem({ collection, seq, error });
    return undefined;
  }
}
