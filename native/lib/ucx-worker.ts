// The process's one UCP worker (src/ucx/ucx_worker.cpp), opened on first use, and the routing of
// its batched events to the sockets they belong to (docs/protocol.md §2.3).
import { availableParallelism } from 'node:os';
import { ShardUnavailableError } from '@ragwire/protocol';
import { native } from './binding';

/** What this build and machine have (`transports()`). */
export interface TransportsReport {
  tcp: true;
  unix: true;
  ucx: { built: boolean; available: boolean; version?: string; error?: string; tls?: string };
}

/** The addon's UCX surface (src/binding/ucx_wrap.cpp). */
export interface UcxAddon {
  ucxAvailability(): { built: boolean; available: boolean; version?: string; error?: string };
  ucxOpen(options: { spinUs: number }, onEvents: (events: unknown[]) => void): { address: Buffer; windowBytes: number };
  ucxConnection(): number;
  ucxConnect(id: number, address: Uint8Array, remoteId: number, remoteWindow: number): void;
  ucxSend(id: number, chunks: Uint8Array[], allowance: number): number;
  ucxAck(id: number, bytes: number): void;
  ucxFinish(id: number): void;
  ucxClose(id: number, graceful: boolean): void;
  ucxPeerGone(id: number, why: string): void;
  ucxRef(on: boolean): void;
  ucxStats(): { sleeps: number };
}

/** Event kinds, as src/ucx/ucx_worker.hpp numbers them. */
export enum UcxEvent {
  Data = 0,
  End = 1,
  Drain = 2,
  Closed = 3,
}

/** What a socket does with its connection's events. */
export interface UcxEndpoint {
  onUcxEvent(kind: UcxEvent, payload: Buffer | string | undefined): void;
}

export interface UcxWorker {
  readonly addon: UcxAddon;
  readonly address: Buffer;
  readonly windowBytes: number;
  /** A new connection id routed to `endpoint`. */
  register(endpoint: UcxEndpoint): number;
  /** Forgets the connection and closes it: `graceful` after what is queued, else at once. */
  unregister(id: number, graceful: boolean): void;
  /** Times the progress thread went to sleep (an idle process does not spin). */
  sleeps(): number;
}

let worker: UcxWorker | undefined;

/** What this build and machine offer: tcp and unix always; ucx when compiled in and UCX initialises. */
export function transports(): TransportsReport {
  const a = (native() as unknown as UcxAddon).ucxAvailability();
  const tls = process.env.UCX_TLS;
  return { tcp: true, unix: true, ucx: { ...a, ...(tls !== undefined ? { tls } : {}) } };
}

/**
 * Microseconds the progress thread spins after the last activity before it sleeps on the worker's
 * event fd; -1 never sleeps (polling mode: lowest latency, one core busy). RAGWIRE_UCX_SPIN_US, else
 * 50 on hosts with more than 4 cores and 0 on smaller ones, where a spinning thread takes the core the
 * JavaScript thread needs (docs/benchmarks.md: on 2 cores a 50 us spin tripled the round trip);
 * RAGWIRE_UCX_POLL=1 means -1.
 */
function spinFromEnv(): number | undefined {
  if (process.env.RAGWIRE_UCX_POLL === '1') return -1;
  const v = process.env.RAGWIRE_UCX_SPIN_US;
  return v === undefined || v === '' ? undefined : Number(v);
}

/** The process's worker, opened on first use. Throws ShardUnavailableError when UCX is not there. */
export function ucxWorker(): UcxWorker {
  if (worker !== undefined) return worker;
  const addon = native() as unknown as UcxAddon;
  const a = addon.ucxAvailability();
  if (!a.available) throw new ShardUnavailableError(`ucx:// is not available here: ${a.error ?? 'unknown reason'}`);
  const endpoints = new Map<number, UcxEndpoint>();
  const spinUs = spinFromEnv() ?? (availableParallelism() > 4 ? 50 : 0);
  const opened = addon.ucxOpen({ spinUs }, (events) => {
    // One call for every event the progress thread queued since the last one.
    for (let i = 0; i < events.length; i += 3) {
      endpoints.get(events[i + 1] as number)?.onUcxEvent(events[i] as UcxEvent, events[i + 2] as Buffer | string | undefined);
    }
  });
  worker = {
    addon,
    address: opened.address,
    windowBytes: opened.windowBytes,
    register(endpoint) {
      const id = addon.ucxConnection();
      endpoints.set(id, endpoint);
      if (endpoints.size === 1) addon.ucxRef(true);
      return id;
    },
    unregister(id, graceful) {
      if (!endpoints.delete(id)) return;
      addon.ucxClose(id, graceful);
      if (endpoints.size === 0) addon.ucxRef(false);
    },
    sleeps: () => addon.ucxStats().sleeps,
  };
  return worker;
}
