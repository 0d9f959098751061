// A fleet collection's shards as its shard map says (docs/operations.md "Rebalancing a fleet"): the map
// in the catalog lists member ids per shard, membership gives each member's address. A client routes by
// the map's epoch, follows the map's changes, and reads it again when a shard refuses a stale epoch.
import type { ShardMap, WriteLog } from '@ragwire/fleet';

export class FleetTopology {
  /** The epoch of the layout last handed to `apply` (0: none yet, the layout given at construction). */
  epoch = 0;
  readonly #log: WriteLog;
  readonly #collection: string;
  readonly #apply: (shards: string[][]) => void;
  /** The last address seen for each member id (a member without a heartbeat now keeps it). */
  readonly #urlOf = new Map<string, string>();
  readonly #given: string[][];
  readonly #abort = new AbortController();
  #started: Promise<void> | undefined;
  #latest: ShardMap | undefined;

  /** `given`: the shard URLs the collection was built with, in the map's order of shards and members. */
  constructor(log: WriteLog, collection: string, given: string[][], apply: (shards: string[][]) => void) {
    this.#log = log;
    this.#collection = collection;
    this.#given = given;
    this.#apply = apply;
  }

  /** Reads the map once and follows its changes; a failure (no NATS now) is retried at the next call. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      const catalog = await this.#log.catalog();
      await this.refresh();
      await catalog.watchShardMap(
        this.#collection,
        (map) => {
          if (map && map.epoch > this.epoch) void this.#use(map).catch(() => undefined);
        },
        this.#abort.signal,
      );
    })().catch(() => {
      this.#started = undefined;
    });
    return this.#started;
  }

  /** Reads the map now and applies it when it is newer than the one in use. */
  async refresh(): Promise<void> {
    const current = await (await this.#log.catalog()).shardMap(this.#collection);
    if (current && current.map.epoch >= this.epoch) await this.#use(current.map);
  }

  close(): void {
    this.#abort.abort();
  }

  async #use(map: ShardMap): Promise<void> {
    if (this.#latest && this.#latest.epoch > map.epoch) return;
    this.#latest = map;
    if (this.#urlOf.size === 0 && sameShape(map.shards, this.#given)) {
      map.shards.forEach((members, s) => members.forEach((m, r) => this.#urlOf.set(m, this.#given[s]![r]!)));
    }
    for (const m of await this.#log.members()) if (m.addresses[0]) this.#urlOf.set(m.id, m.addresses[0]);
    if (this.#latest !== map || map.epoch < this.epoch) return;
    this.epoch = map.epoch;
    this.#apply(map.shards.map((members) => members.flatMap((m) => this.#urlOf.get(m) ?? [])));
  }
}

function sameShape(a: string[][], b: string[][]): boolean {
  return a.length === b.length && a.every((members, s) => members.length === b[s]!.length);
}
