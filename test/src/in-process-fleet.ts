// A fleet in one process: a real nats-server child, one connection, members that are real LMDB stores
// in temp dirs under in-process LogAppliers, and the stream retention an operator sets. Everything it
// opens is closed by `close()`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { LogApplier, streamName, type ApplyTarget, type LogApplierOptions } from '@ragwire/fleet';
import { startNats } from '@ragwire/processes';
import { storeApplyTarget } from '@ragwire/shard-server';
import { openStore, type Store } from '@ragwire/store';

/** A member's store and the apply target over it. */
export interface InProcessMember {
  store: Store;
  target: ApplyTarget;
}

export interface InProcessFleet {
  url: string;
  nc: NatsConnection;
  /** A fresh store in a temp dir, with its apply target. */
  openMember(): Promise<InProcessMember>;
  /** A LogApplier over the fleet's connection, closed with the fleet. */
  applier(options: Omit<LogApplierOptions, 'connection'>): LogApplier;
  /** The operator's retention: the collection's stream keeps its last `maxMsgs` messages. */
  keepLast(collection: string, maxMsgs: number): Promise<void>;
  /** The first sequence the collection's stream still holds. */
  firstSeq(collection: string): Promise<number>;
  close(): Promise<void>;
}

export async function startInProcessFleet(dirPrefix: string): Promise<InProcessFleet> {
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  const dirs: string[] = [];
  const stores: Store[] = [];
  const appliers: LogApplier[] = [];
  const stream = (collection: string) => streamName('ragwire', collection);
  return {
    url: nats.url,
    nc,
    async openMember() {
      const dir = mkdtempSync(join(tmpdir(), dirPrefix));
      dirs.push(dir);
      const store = await openStore({ path: dir });
      stores.push(store);
      return { store, target: storeApplyTarget(store) };
    },
    applier(options) {
      const applier = new LogApplier({ ...options, connection: nc });
      appliers.push(applier);
      return applier;
    },
    async keepLast(collection, maxMsgs) {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(stream(collection));
      await jsm.streams.update(info.config.name, { ...info.config, max_msgs: maxMsgs, discard: 'old' as never });
    },
    async firstSeq(collection) {
      const jsm = await jetstreamManager(nc);
      return (await jsm.streams.info(stream(collection))).state.first_seq;
    },
    async close() {
      for (const a of appliers) await a.close();
      for (const s of stores) await s.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await nc.close();
      await nats.cleanup();
    },
  };
}

/**
 * An apply target whose writes the test can hold: applies at log positions (`holdApplies`) and loads,
 * the writes outside the log position (`holdLoads`, whose `reached` resolves once a load waits).
 */
export interface HeldTarget extends ApplyTarget {
  holdApplies(): () => void;
  holdLoads(): { reached: Promise<void>; release(): void };
}

export function heldTarget(target: ApplyTarget): HeldTarget {
  let applies = Promise.resolve();
  let loads = Promise.resolve();
  let reach = (): void => undefined;
  return {
    ...target,
    holdApplies() {
      let release!: () => void;
      applies = new Promise((resolve) => (release = resolve));
      return release;
    },
    holdLoads() {
      let release!: () => void;
      loads = new Promise((resolve) => (release = resolve));
      const reached = new Promise<void>((resolve) => (reach = resolve));
      return { reached, release };
    },
    async apply(c, seq, write) {
      await applies;
      return target.apply(c, seq, write);
    },
    async applyGroup(c, writes) {
      await applies;
      return target.applyGroup(c, writes);
    },
    async load(c, write, within) {
      reach();
      await loads;
      return target.load(c, write, within);
    },
  };
}
