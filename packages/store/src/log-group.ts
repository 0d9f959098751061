// Fleet: consecutive write-log entries (upserts and deletes by ids) merged into the one store write that
// has their effect applied one by one in log order: each id ends as its last entry left it (upserted
// with that entry's vector and payload, or deleted). An entry the store would refuse is left out and
// named, as applying it alone would have changed nothing. Collection.applyGroupAt commits the result.
import { InvalidArgumentError, type EncodedPayload, type SparseVector } from '@ragwire/protocol';
import { checkUpsert, type CheckedUpsert, type DeleteInput, type UpsertInput } from './write-input';
import { checkIds } from './input-checks';

/** One write-log entry at its position. */
export interface LogEntry {
  logSeq: number;
  write: { upsert: UpsertInput } | { delete: DeleteInput };
}

/** An entry left out of a group: the store's typed error, as applying it alone would have thrown. */
export interface RefusedEntry {
  logSeq: number;
  error: unknown;
}

export interface MergedGroup {
  /** The documents the group leaves upserted (undefined: none). */
  upsert: UpsertInput | undefined;
  /** The ids the group leaves deleted. */
  remove: string[];
  refused: RefusedEntry[];
}

/** One id's last state in the group: its row of an entry's vectors, or deleted (null). */
type Last = { vectors: Float32Array; row: number; payload: EncodedPayload | undefined; sparse: SparseVector | undefined } | null;

/**
 * Merges `entries` (in log order) for a collection of dimension `dim`. A delete by filter or of every
 * document depends on the documents held at its position: it is applied alone (Collection.applyAt).
 */
export function mergeLogGroup(entries: readonly LogEntry[], settings: { name: string; dim: number }): MergedGroup {
  const last = new Map<string, Last>();
  const refused: RefusedEntry[] = [];
  let withPayloads = false;
  let withSparse = false;
  for (const { logSeq, write } of entries) {
    if ('upsert' in write) {
      const { ids, vectors } = write.upsert;
      let checked: CheckedUpsert;
      try {
        checked = checkUpsert(write.upsert, settings);
      } catch (error) {
        refused.push({ logSeq, error });
        continue;
      }
      ids.forEach((id, row) => {
        const payload = checked.encoded?.[row];
        const sv = checked.sparse?.[row] ?? undefined;
        withPayloads ||= payload !== undefined;
        withSparse ||= sv !== undefined;
        last.delete(id); // re-inserted last: the upsert keeps log order
        last.set(id, { vectors, row, payload, sparse: sv });
      });
    } else {
      const { ids } = write.delete;
      if (ids === undefined) throw new InvalidArgumentError(`log entry ${logSeq}: a delete by filter or of every document is applied alone`);
      try {
        checkIds(ids, true);
      } catch (error) {
        refused.push({ logSeq, error });
        continue;
      }
      for (const id of ids) last.set(id, null);
    }
  }
  const remove: string[] = [];
  const kept: [string, NonNullable<Last>][] = [];
  for (const [id, state] of last) {
    if (state === null) remove.push(id);
    else kept.push([id, state]);
  }
  if (kept.length === 0) return { upsert: undefined, remove, refused };
  const { dim } = settings;
  const vectors = new Float32Array(kept.length * dim);
  kept.forEach(([, s], j) => vectors.set(s.vectors.subarray(s.row * dim, (s.row + 1) * dim), j * dim));
  const upsert: UpsertInput = { ids: kept.map(([id]) => id), vectors };
  if (withPayloads) upsert.payloads = kept.map(([, s]) => s.payload ?? null);
  if (withSparse) upsert.sparse = kept.map(([, s]) => s.sparse ?? null);
  return { upsert, remove, refused };
}

/** A log position: a positive safe integer. */
export function checkLogSeq(logSeq: number): void {
  if (!Number.isSafeInteger(logSeq) || logSeq < 1) throw new InvalidArgumentError(`logSeq must be a positive integer, got ${logSeq}`);
}

/** The entries past position `logSeq`, after checking that every position is valid and in log order. */
export function entriesAfter(entries: readonly LogEntry[], logSeq: number): LogEntry[] {
  let previous = 0;
  for (const e of entries) {
    checkLogSeq(e.logSeq);
    if (e.logSeq <= previous) throw new InvalidArgumentError(`log entries must be in log order: ${e.logSeq} after ${previous}`);
    previous = e.logSeq;
  }
  return entries.filter((e) => e.logSeq > logSeq);
}
