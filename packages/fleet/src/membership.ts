// Membership in JetStream KV: each shard server puts its record under its member id and keeps it
// alive with heartbeats; the bucket's max age is the TTL, so a member that stops beating disappears.
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_PREFIX } from './buckets';
import { logError } from './nats-errors';
import { openExisting } from './nats-connection';

export interface MemberRecord {
  id: string;
  /** Binary protocol addresses (tcp://host:port). */
  addresses: string[];
  /** Admin HTTP URL, when the server has one. */
  admin?: string;
  /** Per collection: where this member stands in its log (a rebalance waits on it). */
  collections?: Record<string, MemberPosition>;
}

/** A member's position in one collection's log, as its heartbeat reports it. */
export interface MemberPosition {
  /** Every message up to here was applied or passed over. */
  seq: number;
  /** The last sequence its store committed, applied or passed over (0: an empty member, which may be given buckets). */
  stored: number;
  /** The shard-map epoch the member answers queries by (0: no map yet). */
  epoch: number;
  /** The id of the pending move (ShardMap.next) whose buckets the member followed from its log position 0 up to `seq`. */
  move?: string;
}

export class Membership {
  readonly #kv: KV;

  private constructor(kv: KV) {
    this.#kv = kv;
  }

  /** Opens `<prefix>-members`; `ttlMs` is fixed when the bucket is first created. Default 10000 ms. */
  static async open(nc: NatsConnection, options: { prefix?: string; ttlMs?: number; replicas?: number } = {}): Promise<Membership> {
    const name = `${options.prefix ?? DEFAULT_PREFIX}-members`;
    try {
      // An existing bucket is used as it is (its TTL and replicas were fixed when it was created).
      const kv =
        (await openExisting(nc, name)) ?? (await new Kvm(nc).create(name, { history: 1, ttl: options.ttlMs ?? 10_000, replicas: options.replicas ?? 1 }));
      return new Membership(kv);
    } catch (error) {
      throw logError('opening the membership bucket', error);
    }
  }

  /** Puts the record (as `record` returns it at each beat) now and every `everyMs`; returns a function that stops beating (the record then expires). */
  heartbeat(record: MemberRecord | (() => MemberRecord), everyMs: number, onError: (error: unknown) => void): () => void {
    const beat = (): void => {
      const r = typeof record === 'function' ? record() : record;
      void this.#kv.put(r.id, JSON.stringify(r)).catch(onError);
    };
    beat();
    const timer = setInterval(beat, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** The live members (those whose last heartbeat is younger than the TTL). */
  async members(): Promise<MemberRecord[]> {
    try {
      const out: MemberRecord[] = [];
      for await (const key of await this.#kv.keys()) {
        const e = await this.#kv.get(key);
        if (e && e.operation === 'PUT') out.push(e.json<MemberRecord>());
      }
      return out;
    } catch (error) {
      throw logError('listing members', error);
    }
  }

  /** Removes a member at once (a clean shutdown). */
  async leave(id: string): Promise<void> {
    await this.#kv.delete(id).catch(() => undefined);
  }
}
