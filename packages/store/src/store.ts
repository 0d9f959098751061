// A store: one directory, one LMDB environment, many collections. One live
// process owns a directory at a time (a pid file refuses a second owner; a
// dead owner's file, after kill -9, is taken over).
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import {
  ClosedError,
  CollectionExistsError,
  DeviceUnavailableError,
  IoError,
  UnknownCollectionError,
  type CollectionInfo,
  type SnapshotInfo,
  type StatValue,
  DEFAULT_TEXT_SETTINGS,
  type TextSettings,
} from '@ragwire/protocol';
import { devices, type DataPlaneRegistry, type Device } from '@ragwire/native';
import { Collection } from './collection';
import type { CollectionDbs, CollectionRecord } from './records';
import { recover } from './recovery';
import { checkEngineAccepts, sameSettings, validateSettings, type CollectionSettings } from './settings';
import { resolveStoreOptions, type ResolvedStoreOptions, type StoreOptions } from './store-options';

export { DEFAULT_EXACT_SCAN_BYTES, type RebuildEvent, type StoreOptions } from './store-options';

export interface CreateCollectionInput {
  name: string;
  dim: number;
  metric: CollectionSettings['metric'];
  kind?: CollectionSettings['kind'];
  storage?: CollectionSettings['storage'];
  params?: Record<string, number>;
  /** Text index settings (docs/search.md §1); default DEFAULT_TEXT_SETTINGS. */
  text?: TextSettings;
  ifNotExists?: boolean;
}

export class Store {
  readonly path: string;
  readonly #root: RootDatabase;
  readonly #collectionsDb: Database<CollectionRecord, string>;
  readonly #collections = new Map<string, Collection>();
  readonly #options: ResolvedStoreOptions;
  #closed = false;
  #dataPlanes: DataPlaneRegistry[] = [];

  private constructor(root: RootDatabase, options: ResolvedStoreOptions) {
    this.#root = root;
    this.path = options.path;
    this.#options = options;
    this.#collectionsDb = root.openDB<CollectionRecord, string>({ name: 'collections' });
  }

  /** Opens (or creates) the store at options.path and recovers every collection. Bad options throw ConfigError naming the field. */
  static async open(options: StoreOptions): Promise<Store> {
    const resolved = resolveStoreOptions(options);
    requireDevice(resolved.device);
    mkdirSync(join(resolved.path, 'snapshots'), { recursive: true });
    claimOwnership(resolved.path);
    const root = open({ path: join(resolved.path, 'data.mdb'), maxDbs: 1024 });
    const store = new Store(root, resolved);
    for (const { value } of store.#collectionsDb.getRange()) await store.#load(value);
    return store;
  }

  /**
   * Publishes every collection, and each one created or opened later, to the native data plane
   * (@ragwire/native's DataPlaneRegistry), kept current by every write before it resolves.
   */
  publishTo(registry: DataPlaneRegistry): void {
    this.#open();
    this.#dataPlanes.push(registry);
    for (const c of this.#collections.values()) c.publishTo(registry);
  }

  /** Stops publishing to `registry` (disposed by its owner: a closing shard server). */
  unpublishFrom(registry: DataPlaneRegistry): void {
    this.#dataPlanes = this.#dataPlanes.filter((r) => r !== registry);
    for (const c of this.#collections.values()) c.unpublishFrom(registry);
  }

  async createCollection(input: CreateCollectionInput): Promise<{ created: boolean; info: CollectionInfo }> {
    this.#open();
    const settings = validateSettings(input);
    const existing = this.#collections.get(settings.name);
    if (existing) {
      if (input.ifNotExists && sameSettings(existing.settings, settings)) return { created: false, info: existing.info() };
      throw new CollectionExistsError(`collection ${settings.name} exists` + (input.ifNotExists ? ' with other settings' : ''));
    }
    checkEngineAccepts(settings);
    const record: CollectionRecord = { settings, incarnation: randomUUID(), seq: 0, nextLabel: 0 };
    await this.#collectionsDb.put(settings.name, record);
    const c = await this.#load(record);
    return { created: true, info: c.info() };
  }

  async dropCollection(name: string, options: { ifExists?: boolean } = {}): Promise<{ dropped: boolean }> {
    this.#open();
    const c = this.#collections.get(name);
    if (!c) {
      if (options.ifExists) return { dropped: false };
      throw new UnknownCollectionError(`no collection named ${name}`);
    }
    this.#collections.delete(name);
    await c.drop();
    return { dropped: true };
  }

  collection(name: string): Collection {
    this.#open();
    const c = this.#collections.get(name);
    if (!c) throw new UnknownCollectionError(`no collection named ${name}`);
    return c;
  }

  describe(name?: string): CollectionInfo[] {
    if (name !== undefined) return [this.collection(name).info()];
    this.#open();
    return [...this.#collections.values()].map((c) => c.info());
  }

  async snapshot(name?: string): Promise<SnapshotInfo[]> {
    const targets = name !== undefined ? [this.collection(name)] : [...this.#collections.values()];
    return Promise.all(targets.map((c) => c.snapshot()));
  }

  stats(name?: string): Record<string, StatValue> {
    if (name !== undefined) return this.collection(name).stats();
    this.#open();
    const out: Record<string, StatValue> = { collections: this.#collections.size };
    for (const c of this.#collections.values()) {
      for (const [k, v] of Object.entries(c.stats())) out[`${c.name}.${k}`] = v;
    }
    return out;
  }

  /** Closes every collection (each snapshots when it has writes since its last snapshot), then LMDB. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const c of this.#collections.values()) await c.close();
    this.#closed = true;
    await this.#root.close();
    rmSync(join(this.path, 'owner.pid'), { force: true });
  }

  async #load(record: CollectionRecord): Promise<Collection> {
    record.settings.text ??= { ...DEFAULT_TEXT_SETTINGS }; // a collection made before the text index
    const prefix = `c/${record.incarnation}`;
    const dbs: CollectionDbs = {
      collections: this.#collectionsDb,
      docs: this.#root.openDB({ name: `${prefix}/docs` }),
      vectors: this.#root.openDB({ name: `${prefix}/vectors`, encoding: 'binary', keyEncoding: 'uint32' }),
      log: this.#root.openDB({ name: `${prefix}/log` }),
    };
    const snapshotPath = join(this.path, 'snapshots', `${record.incarnation}.snap`);
    const state = await recover(dbs, record, snapshotPath, {
      device: this.#options.device,
      inlineSearchBudget: this.#options.inlineSearchBudget,
      vectors: this.#options.vectors,
    });
    if (state.rebuilt) this.#options.onRebuild({ collection: record.settings.name, ...state.rebuilt, documents: state.labelToId.size });
    const c = new Collection(dbs, record, state, {
      snapshotPath,
      snapshotEveryOps: this.#options.snapshotEveryOps,
      compactRatio: this.#options.compactRatio,
      exactScanBytes: this.#options.exactScanBytes,
      deviceMinWork: this.#options.deviceMinWork,
    });
    this.#collections.set(record.settings.name, c);
    for (const registry of this.#dataPlanes) c.publishTo(registry);
    return c;
  }

  #open(): void {
    if (this.#closed) throw new ClosedError('the store is closed');
  }
}

/** Opens the store at `path` (see Store.open). */
export function openStore(options: StoreOptions): Promise<Store> {
  return Store.open(options);
}

/** A store asked for a device this build or machine lacks fails at open, not at its first collection. */
function requireDevice(device: Device): void {
  if (device === 'cpu' || device === 'auto' || devices().some((d) => d.kind === device)) return;
  throw new DeviceUnavailableError(
    `store option "device": no ${device} device in this build or machine (devices(): ${devices()
      .map((d) => d.kind)
      .join(', ')})`,
  );
}

function claimOwnership(dir: string): void {
  const file = join(dir, 'owner.pid');
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new IoError(`the store at ${dir} is open in process ${pid}; one process owns a store at a time`);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  writeFileSync(file, String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
