// A collection as the native data plane sees it (@ragwire/native's DataPlaneRegistry): its engine
// index, its exact-scan threshold, and a column of label -> document id and encoded payload (an
// unnamed memory-mapped file in the collection's directory), derived from LMDB when published and kept current by every write the collection applies, before the write
// resolves. A native+tcp:// listener answers plain dense queries from it without waking JavaScript
// (docs/architecture.md "Data plane"); LMDB stays the source of truth.
import type { EncodedPayload } from '@ragwire/protocol';
import type { DataPlaneRegistry, Index } from '@ragwire/native';

/** Documents handed to the registry per call when a whole collection is published. */
const PUBLISH_BATCH = 4096;

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
   * them, into a column file in `columnDir`.
   */
  publish(
    index: Index,
    exactScanBytes: number,
    columnDir: string,
    labelToId: ReadonlyMap<number, string>,
    encodedPayload: (id: string) => EncodedPayload | null,
  ): void {
    this.registry.publish(this.name, index, exactScanBytes, columnDir);
    let labels: number[] = [];
    let ids: string[] = [];
    const flush = () => {
      this.registry.put(
        this.name,
        Uint32Array.from(labels),
        ids,
        ids.map((id) => encodedPayload(id)?.bytes ?? null),
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

  /** Documents just added to the index, with their encoded payloads (undefined: none). */
  added(labels: Uint32Array, ids: readonly string[], encoded: readonly (EncodedPayload | undefined)[] | undefined): void {
    this.registry.put(
      this.name,
      labels,
      [...ids],
      ids.map((_, i) => encoded?.[i]?.bytes ?? null),
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
