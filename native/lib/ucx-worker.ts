// The process's one UCP worker (src/ucx/ucx_worker.cpp), opened on first use, and the routing of
// its batched events to the sockets they belong to (docs/protocol.md §2.3).
import { NATIVE_LOOP_LIMITS, ShardUnavailableError } from '@ragwire/protocol';
import { ANSWER_TIME_BOUNDS_NS, answerTimes, noAnswerTimes, type AnswerTimes } from './answer-times';
import { native, type DataPlaneLimits } from './binding';
import { answererArgs, type NativeAnswering } from './data-plane-registry';
import { spinMicros } from './polling';
import type { NativeConnectionState } from './native-tcp';

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
  ucxConnection(...serving: [] | [registry: number, limits: DataPlaneLimits, storeCaps: { maxK: number; maxEfSearch: number }, serve: ServeLimits]): number;
  ucxSetState(id: number, state: NativeConnectionState): void;
  ucxAnsweredBytes(id: number): number;
  ucxBarrier(): void;
  ucxConnect(id: number, address: Uint8Array, remoteId: number, remoteWindow: number): void;
  ucxSend(id: number, chunks: Uint8Array[], allowance: number): number;
  ucxAck(id: number, bytes: number): void;
  ucxFinish(id: number): void;
  ucxClose(id: number, graceful: boolean): void;
  ucxPeerGone(id: number, why: string): void;
  ucxRef(on: boolean): void;
  ucxStats(): UcxStats;
}

/** The progress thread's counters since the worker opened. */
export interface UcxStats {
  /** Times it went to sleep (an idle process does not spin). */
  sleeps: number;
  /** Over every served connection: frame headers walked, and of those QUERY frames. */
  frames: number;
  queries: number;
  /** QUERY frames answered on the progress thread, and those kept whole but handed to JavaScript. */
  answered: number;
  declined: number;
  /** The answered queries by time taken. */
  answerTimes: AnswerTimes;
}

/** The native data plane's limits for one served connection (src/dataplane/served_stream.hpp). */
interface ServeLimits {
  maxFrameBytes: number;
  keepFrameBytes: number;
  replyHighWaterBytes: number;
  answerTimeBoundsNs: readonly number[];
}

/** What a served connection (a shard server's side of ucx://) answers on the progress thread. */
export interface UcxServing {
  answering: NativeAnswering;
  /** The protocol's frame limit (limits.maxFrameBytes). */
  maxFrameBytes: number;
  /** connectionLimits.replyHighWaterBytes: above it, queries go to JavaScript, whose backpressure applies. */
  replyHighWaterBytes: number;
}

/** Event kinds, as src/ucx/ucx_worker.hpp numbers them. */
export enum UcxEvent {
  Data = 0,
  End = 1,
  Drain = 2,
  Closed = 3,
  /** (connection 0) every chunk received before ucxBarrier() was asked was answered or handed on. */
  Barrier = 4,
}

/** What a socket does with its connection's events. */
export interface UcxEndpoint {
  onUcxEvent(kind: UcxEvent, payload: Buffer | string | undefined): void;
}

export interface UcxWorker {
  readonly addon: UcxAddon;
  readonly address: Buffer;
  readonly windowBytes: number;
  /** A new connection id routed to `endpoint`; with `serving`, a served connection. */
  register(endpoint: UcxEndpoint, serving?: UcxServing): number;
  /** Forgets the connection and closes it: `graceful` after what is queued, else at once. */
  unregister(id: number, graceful: boolean): void;
  stats(): UcxStats;
  /**
   * Resolves once every chunk received so far was answered on the progress thread or handed to
   * JavaScript (and its handlers ran): after a registry stops answering, what JavaScript holds is all there is.
   */
  quiesce(): Promise<void>;
}

let worker: UcxWorker | undefined;

/** What this build and machine offer: tcp and unix always; ucx when compiled in and UCX initialises. */
export function transports(): TransportsReport {
  const a = (native() as unknown as UcxAddon).ucxAvailability();
  const tls = process.env.UCX_TLS;
  return { tcp: true, unix: true, ucx: { ...a, ...(tls !== undefined ? { tls } : {}) } };
}

/** The process's worker, opened on first use. Throws ShardUnavailableError when UCX is not there. */
export function ucxWorker(): UcxWorker {
  if (worker !== undefined) return worker;
  const addon = native() as unknown as UcxAddon;
  const a = addon.ucxAvailability();
  if (!a.available) throw new ShardUnavailableError(`ucx:// is not available here: ${a.error ?? 'unknown reason'}`);
  const endpoints = new Map<number, UcxEndpoint>();
  let barriers: (() => void)[] = [];
  const spinUs = spinMicros();
  const opened = addon.ucxOpen({ spinUs }, (events) => {
    // One call for every event the progress thread queued since the last one.
    for (let i = 0; i < events.length; i += 3) {
      const kind = events[i] as UcxEvent;
      if (kind === UcxEvent.Barrier) {
        // After the handlers of the bytes delivered before it have run.
        const waiting = barriers;
        barriers = [];
        setImmediate(() => {
          for (const resolve of waiting) resolve();
        });
        continue;
      }
      endpoints.get(events[i + 1] as number)?.onUcxEvent(kind, events[i + 2] as Buffer | string | undefined);
    }
  });
  worker = {
    addon,
    address: opened.address,
    windowBytes: opened.windowBytes,
    register(endpoint, serving) {
      const id = serving
        ? addon.ucxConnection(...answererArgs(serving.answering), {
            maxFrameBytes: serving.maxFrameBytes,
            keepFrameBytes: Math.min(NATIVE_LOOP_LIMITS.keepFrameBytes, serving.maxFrameBytes),
            replyHighWaterBytes: serving.replyHighWaterBytes,
            answerTimeBoundsNs: ANSWER_TIME_BOUNDS_NS,
          })
        : addon.ucxConnection();
      endpoints.set(id, endpoint);
      if (endpoints.size === 1) addon.ucxRef(true);
      return id;
    },
    unregister(id, graceful) {
      if (!endpoints.delete(id)) return;
      addon.ucxClose(id, graceful);
      if (endpoints.size === 0) addon.ucxRef(false);
    },
    stats: () => {
      const s = addon.ucxStats();
      return { ...s, answerTimes: answerTimes(s.answerTimes) };
    },
    quiesce: () =>
      new Promise((resolve) => {
        barriers.push(resolve);
        addon.ucxBarrier();
      }),
  };
  return worker;
}

/** The progress thread's counters (zeros before the worker opened). */
export function ucxStats(): UcxStats {
  return worker?.stats() ?? { sleeps: 0, frames: 0, queries: 0, answered: 0, declined: 0, answerTimes: noAnswerTimes() };
}

/** UcxWorker.quiesce of the process's worker; at once when none was opened (nothing was received). */
export function ucxQuiesce(): Promise<void> {
  return worker?.quiesce() ?? Promise.resolve();
}
