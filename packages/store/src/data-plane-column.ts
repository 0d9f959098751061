// A collection as the native data plane sees it (@ragwire/native's DataPlaneRegistry): its engine
// index, its planner's rules, a column of label -> document id and encoded payload (an unnamed
// memory-mapped file in the collection's directory) and a filter index over each document's
// (field, value) pairs as the store's FilterIndex holds them, derived from LMDB when published and
// kept current by every write the collection applies, before the write resolves. A native+tcp://
// listener answers dense queries, filtered or not, from it without waking JavaScript
// (docs/architecture.md "The native fast path"); LMDB stays the source of truth.
import type { EncodedPayload } from '@ragwire/protocol';
import type { DataPlanePlanRules, DataPlaneRegistry, FilterFields, Index } from '@ragwire/native';
import type { IndexedValue } from './filter-index';

/** Documents handed to the registry per call when a whole collection is published. */
const PUBLISH_BATCH = 4096;

/** A document's filter-index pairs, as the native filter index takes them. */
type FieldsOf = (label: number) => readonly [string, IndexedValue][] | undefined;

/** A string with an unpaired surrogate: UTF-8 cannot carry it, and no filter answered natively equals it. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * `pairs` flattened for the native filter index. A value too long to compare with, or one UTF-8
 * cannot carry, is present only (null): filters the native plane answers are well-formed, so
 * none equals it; a pair whose key UTF-8 cannot carry is left out, as no such filter names it.
 */
function nativeFields(pairs: readonly [string, IndexedValue][] | undefined): FilterFields | null {
  if (pairs === undefined) return null;
  const out: FilterFields = [];
  for (const [key, value] of pairs) {
    if (LONE_SURROGATE.test(key)) continue;
    out.push(key, value === undefined || (typeof value === 'string' && LONE_SURROGATE.test(value)) ? null : value);
  }
  return out;
}

/** One collection's columns, one per registry it is published to. */
export class DataPlaneColumns {
  #columns: DataPlaneColumn[] = [];

  constructor(readonly name: string) {}

  publish(registry: DataPlaneRegistry, ...state: Parameters<DataPlaneColumn['publish']>): void {
    const column = new DataPlaneColumn(registry, this.name);
    column.publish(...state);
    this.#columns.push(column);
  }

  /** Stops updating `registry` (its owner disposed it or is about to). */
  forget(registry: DataPlaneRegistry): void {
    this.#columns = this.#columns.filter((c) => c.registry !== registry);
  }

  added(...write: Parameters<DataPlaneColumn['added']>): void {
    for (const c of this.#columns) c.added(...write);
  }

  removed(labels: readonly number[]): void {
    for (const c of this.#columns) c.removed(labels);
  }

  unpublish(): void {
    for (const c of this.#columns) c.unpublish();
  }
}

class DataPlaneColumn {
  constructor(
    readonly registry: DataPlaneRegistry,
    readonly name: string,
  ) {}

  /**
   * Publishes the collection with every live document: ids from `labelToId`, payloads as LMDB holds
   * them, into a column file in `columnDir`, and each document's filter pairs.
   */
  publish(
    index: Index,
    rules: DataPlanePlanRules,
    columnDir: string,
    labelToId: ReadonlyMap<number, string>,
    encodedPayload: (id: string) => EncodedPayload | null,
    fieldsOf: FieldsOf,
  ): void {
    this.registry.publish(this.name, index, rules, columnDir);
    let labels: number[] = [];
    let ids: string[] = [];
    const flush = () => {
      this.registry.put(
        this.name,
        Uint32Array.from(labels),
        ids,
        ids.map((id) => encodedPayload(id)?.bytes ?? null),
        labels.map((label) => nativeFields(fieldsOf(label))),
      );
      labels = [];
      ids = [];
    };
    for (const [label, id] of labelToId) {
      labels.push(label);
      ids.push(id);
      if (labels.length === PUBLISH_BATCH) flush();
    }
    if (labels.length > 0) flush();
  }

  /** Documents just added to the index, with their encoded payloads (undefined: none) and their filter pairs. */
  added(labels: Uint32Array, ids: readonly string[], encoded: readonly (EncodedPayload | undefined)[] | undefined, fieldsOf: FieldsOf): void {
    this.registry.put(
      this.name,
      labels,
      [...ids],
      ids.map((_, i) => encoded?.[i]?.bytes ?? null),
      Array.from(labels, (label) => nativeFields(fieldsOf(label))),
    );
  }

  /** Labels just removed from the index. */
  removed(labels: readonly number[]): void {
    if (labels.length > 0) this.registry.remove(this.name, Uint32Array.from(labels));
  }

  unpublish(): void {
    this.registry.unpublish(this.name);
  }
}
