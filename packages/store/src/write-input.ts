// What a write to a collection takes (Collection.upsert, Collection.delete, and the fleet's log entries).
import type { Filter, Payload, SparseVector } from '@ragwire/protocol';

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
