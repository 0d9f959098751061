// The collections a store publishes to the native data plane (src/dataplane/collection_registry.hpp):
// each collection's engine index (the very object the store searches), its planner's rules, a column
// of label -> document id and encoded payload (a memory-mapped file beside the index) and the
// metadata filter index over each document's (field, value) pairs (src/dataplane/filter_index.hpp). A
// native+tcp:// listener answers QUERY frames from it on its loop thread, a ucx:// listener on the
// UCX progress thread (docs/architecture.md "Data plane"). The store keeps the column current on
// every write it applies, before the write is acknowledged; LMDB stays the source of truth.
import { DEFAULT_LIMITS, type ProtocolLimits } from '@ragwire/protocol';
import { dataPlaneLimits, native, type DataPlaneLimits } from './binding';

/** What publishing needs of an index (@ragwire/native's Index has it). */
export interface PublishableIndex {
  /** The addon's object behind the index. */
  nativeHandle(): object;
  stats(): { deviceKind: string };
}

/** The addon's registry surface (src/binding/registry_wrap.cpp). */
interface RegistryAddon {
  dataPlaneRegistryCreate(): number;
  dataPlaneRegistryDispose(id: number): void;
  dataPlaneRegistryPublish(id: number, name: string, index: object, plan: PlanRules & { searchesOnDevice: boolean; columnDir: string }): void;
  dataPlaneRegistryUnpublish(id: number, name: string): void;
  dataPlaneRegistryPut(id: number, name: string, labels: Uint32Array, ids: string[], payloads: (Uint8Array | null)[], fields: (FilterFields | null)[]): void;
  dataPlaneRegistryRemove(id: number, name: string, labels: Uint32Array): void;
}

/**
 * The store's planner rules for a collection (packages/store's SearchPlacement): its exact-scan
 * threshold, a filtered walk's cost, and, for HNSW, the graph's M and default efSearch (else 0).
 */
export interface PlanRules {
  exactScanBytes: number;
  walkCost: number;
  M: number;
  efSearch: number;
}

/**
 * A document's metadata (field, value) pairs as the store's filter index holds them, flattened:
 * key, value, key, value, ...; a null value: present, equal to no value a filter names.
 */
export type FilterFields = (string | number | boolean | null)[];

export class DataPlaneRegistry {
  /** The addon's number for it (what a listener's loop is told to answer from). */
  readonly id: number;
  readonly #addon: RegistryAddon;
  #disposed = false;

  constructor() {
    this.#addon = native() as unknown as RegistryAddon;
    this.id = this.#addon.dataPlaneRegistryCreate();
  }

  /**
   * Publishes (or replaces) `name` with no documents yet. `rules`: the store's planner rules, which
   * the native plane plans its queries from. A flat index on a device is published as such and its
   * queries stay with the store's placement (JavaScript). The column of ids and payloads is an
   * unnamed memory-mapped file in `columnDir` (the collection's directory); where one cannot be
   * made, the collection's queries stay with JavaScript.
   */
  publish(name: string, index: PublishableIndex, rules: PlanRules, columnDir: string): void {
    if (this.#disposed) return;
    const s = index.stats();
    this.#addon.dataPlaneRegistryPublish(this.id, name, index.nativeHandle(), { ...rules, searchesOnDevice: s.deviceKind !== 'cpu', columnDir });
  }

  unpublish(name: string): void {
    if (!this.#disposed) this.#addon.dataPlaneRegistryUnpublish(this.id, name);
  }

  /** Documents whose labels were just added to the index: their ids, encoded payloads and filter fields (null: none). */
  put(name: string, labels: Uint32Array, ids: string[], payloads: (Uint8Array | null)[], fields: (FilterFields | null)[]): void {
    if (!this.#disposed) this.#addon.dataPlaneRegistryPut(this.id, name, labels, ids, payloads, fields);
  }

  /** Labels just removed from the index. */
  remove(name: string, labels: Uint32Array): void {
    if (!this.#disposed) this.#addon.dataPlaneRegistryRemove(this.id, name, labels);
  }

  /** Forgets every collection; loops answering from it decline every query from then on. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#addon.dataPlaneRegistryDispose(this.id);
  }
}

/** Where a listener answers QUERY frames from natively: a store's published collections, under the server's protocol limits. */
export interface NativeAnswering {
  registry: DataPlaneRegistry;
  limits: ProtocolLimits;
}

/**
 * The addon's arguments for an answerer (src/binding/registry_wrap.cpp, answerer_args): the registry,
 * the server's protocol limits, and the store's own caps on k and efSearch (the store checks them
 * against the default caps whatever the server's protocol limits).
 */
export function answererArgs(answering: NativeAnswering): [number, DataPlaneLimits, { maxK: number; maxEfSearch: number }] {
  return [answering.registry.id, dataPlaneLimits(answering.limits), { maxK: DEFAULT_LIMITS.maxK, maxEfSearch: DEFAULT_LIMITS.maxEfSearch }];
}
