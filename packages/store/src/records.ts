// What a collection keeps in LMDB: its record in the `collections` database,
// one record per document, its stored vectors and its write log.
import type { Database } from 'lmdb';
import type { CollectionSettings } from './settings';

/** The per-collection record in the `collections` database. */
export interface CollectionRecord {
  settings: CollectionSettings;
  /** Distinguishes this collection from an earlier one of the same name. */
  incarnation: string;
  seq: number;
  nextLabel: number;
  /** Fleet: the write log sequence of the last write applied through applyAt, committed with it. Absent: none. */
  logSeq?: number;
  /**
   * Fleet: write log entries applied (a refused one excluded), committed with them: replicas that applied
   * the same entries agree, however they were grouped into store writes. Absent: none.
   */
  logWrites?: number;
}

export interface DocRecord {
  label: number;
  /** The payload in its wire form (msgpack of { text?, metadata? }), served as is; absent: no payload. */
  payload?: Uint8Array;
  /** The payload's metadata again, for the filter index (rebuilt from these records on open). */
  metadata?: Record<string, unknown>;
  /** Records written before `payload` existed keep the text here. */
  text?: string;
  /** The document's sparse vector (docs/search.md §2): indices, values. */
  sparse?: [number[], number[]];
}

/** One write as the log keeps it: labels added and removed. */
export interface LogEntry {
  add: number[];
  remove: number[];
}

export interface CollectionDbs {
  collections: Database<CollectionRecord, string>;
  docs: Database<DocRecord, string>;
  vectors: Database<Buffer, number>;
  log: Database<LogEntry, number>;
}
