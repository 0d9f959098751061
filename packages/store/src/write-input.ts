// What a write to a collection takes (Collection.upsert, Collection.delete, and the fleet's log entries).
import { InvalidArgumentError, isEncodedPayload, type EncodedPayload, type Filter, type Payload, type SparseVector } from '@ragwire/protocol';
import { checkIds, checkVectors } from './input-checks';
import { encodePayload } from './stored-payload';
import { checkSparse } from './text/sparse-index';

export interface UpsertInput {
  ids: string[];
  vectors: Float32Array;
  payloads?: (Payload | null)[];
  /** One sparse vector (or null) per id. */
  sparse?: (SparseVector | null)[];
}

export interface DeleteInput {
  ids?: string[];
  filter?: Filter;
  all?: boolean;
}

/**
 * The ids a delete names: its ids, the documents its filter matches now, or with `all: true` every
 * document. Exactly one of the three; an empty filter is refused (by `matching`).
 */
export function deleteTargets(input: DeleteInput, matching: (filter: Filter) => string[], everyId: () => string[]): string[] {
  const given = (input.ids !== undefined ? 1 : 0) + (input.filter !== undefined ? 1 : 0) + (input.all !== undefined ? 1 : 0);
  if (given !== 1) throw new InvalidArgumentError('delete takes exactly one of ids, filter and all');
  if (input.ids) {
    checkIds(input.ids, true);
    return input.ids;
  }
  if (input.filter !== undefined) return matching(input.filter);
  if (input.all !== true) throw new InvalidArgumentError(`delete.all must be true when given, got ${String(input.all)}`);
  return everyId();
}

/** An upsert checked whole, its payloads encoded: one entry per id, undefined or null where none. */
export interface CheckedUpsert {
  n: number;
  encoded: (EncodedPayload | undefined)[] | undefined;
  sparse: (SparseVector | null)[] | undefined;
}

/**
 * Checks every part of an upsert and encodes its payloads before anything changes, so a bad row fails
 * the whole write with the store's typed error.
 */
export function checkUpsert(input: UpsertInput, settings: { name: string; dim: number }): CheckedUpsert {
  const { ids, vectors, payloads, sparse } = input;
  const n = checkIds(ids);
  checkVectors(vectors, settings, n, 'vectors');
  if (payloads !== undefined && (!Array.isArray(payloads) || payloads.length !== n)) {
    throw new InvalidArgumentError(`payloads must hold one entry (or null) per id: ${n}, got ${Array.isArray(payloads) ? payloads.length : typeof payloads}`);
  }
  if (sparse !== undefined && sparse.length !== n) throw new InvalidArgumentError(`sparse must hold one entry (or null) per id: ${n}, got ${sparse.length}`);
  return {
    n,
    encoded: payloads?.map((p, i) => (p === null || p === undefined ? undefined : isEncodedPayload(p) ? p : encodePayload(p, `payloads[${i}]`))),
    sparse: sparse?.map((v, i) => (v === null || v === undefined || v.indices.length === 0 ? null : checkSparse(v, `sparse[${i}]`))),
  };
}
