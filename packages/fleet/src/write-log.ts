// The write side of a fleet: upserts and deletes appended to the collection's JetStream stream, one
// message per bucket touched, each the write's binary frame (docs/protocol.md §5.4-§5.5). A write resolves
// after every PubAck; its position is the largest PubAck sequence.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { InvalidArgumentError, LogUnavailableError, encodeFrame, type DeleteRequest, type Filter, type Payload, type UpsertRequest } from '@ragwire/protocol';
import { EVERY_BUCKET, bucketOf, bucketSubject, checkBuckets, streamName, DEFAULT_BUCKETS, DEFAULT_PREFIX } from './buckets';
import { isRetryableNatsFailure, logError } from './nats-errors';
import { connectNats, type NatsOptions } from './nats-connection';
import { FleetCatalog, type CollectionSpec } from './catalog';
import { Membership, type MemberRecord } from './membership';

export interface WriteLogOptions extends NatsOptions {
  /** Virtual buckets per collection (fixed for its life). Default 1024. */
  buckets?: number;
  /** Stream replicas: 1, or 3 on a 3-node NATS cluster (each write acknowledged by a quorum). Default 1. */
  replicas?: number;
  /** Stream byte limit; when reached a write fails with RAGWIRE_ERR_LOG_FULL (discard new). Default: none (-1). */
  maxBytes?: number; // bytes
  /** A write (every PubAck, retries included) fails with RAGWIRE_ERR_LOG_UNAVAILABLE after this long. Default 10000 ms. */
  writeTimeoutMs?: number; // ms
  /** How long the stream remembers a message id to drop a retried duplicate. Default 120000 ms. */
  duplicateWindowMs?: number; // ms
}

export interface LogUpsert {
  dim: number;
  ids: string[];
  vectors: Float32Array;
  payloads?: (Payload | null)[];
}

export type LogDelete = { ids: string[] } | { filter: Filter } | { all: true };

/** Where a write landed: the largest sequence among its messages (its position for read-your-writes). */
export interface LogPosition {
  seq: number;
  /** Messages appended (one per bucket touched). */
  messages: number;
}

export class WriteLog {
  readonly prefix: string;
  readonly buckets: number;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #options: Required<Pick<WriteLogOptions, 'replicas' | 'maxBytes' | 'writeTimeoutMs' | 'duplicateWindowMs'>>;
  readonly #ownsConnection: boolean;
  readonly #session = randomUUID();
  readonly #streams = new Set<string>();
  #requestId = 0;
  #catalog: Promise<FleetCatalog> | undefined;
  #membership: Promise<Membership> | undefined;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, options: WriteLogOptions, ownsConnection: boolean) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    this.#ownsConnection = ownsConnection;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.buckets = checkBuckets(options.buckets ?? DEFAULT_BUCKETS);
    const replicas = options.replicas ?? 1;
    if (replicas !== 1 && replicas !== 3 && replicas !== 5) throw new InvalidArgumentError(`replicas must be 1, 3 or 5, got ${replicas}`);
    this.#options = {
      replicas,
      maxBytes: options.maxBytes ?? -1,
      writeTimeoutMs: options.writeTimeoutMs ?? 10_000,
      duplicateWindowMs: options.duplicateWindowMs ?? 120_000,
    };
  }

  /** Connects to NATS (or uses `options.connection`); fails with RAGWIRE_ERR_LOG_UNAVAILABLE when no server answers. */
  static async connect(options: WriteLogOptions): Promise<WriteLog> {
    const nc = options.connection ?? (await connectNats(options));
    try {
      return new WriteLog(nc, await jetstreamManager(nc), options, options.connection === undefined);
    } catch (error) {
      if (options.connection === undefined) await nc.close().catch(() => undefined);
      throw logError('JetStream', error);
    }
  }

  /** Creates the collection's stream if missing (idempotent). Writes call it once per collection. */
  async ensureStream(collection: string): Promise<void> {
    const name = streamName(this.prefix, collection);
    if (this.#streams.has(name)) return;
    const config = {
      name,
      subjects: [`${bucketSubject(this.prefix, collection, 0).replace(/\.0$/, '')}.>`],
      storage: 'file' as const,
      num_replicas: this.#options.replicas,
      max_bytes: this.#options.maxBytes,
      discard: 'new' as const,
      duplicate_window: this.#options.duplicateWindowMs * 1_000_000, // ns
    };
    try {
      await this.#jsm.streams.info(name);
    } catch {
      try {
        await this.#jsm.streams.add(config);
      } catch (error) {
        // Another writer created it meanwhile.
        if (!/already in use|exists/i.test(String(error))) throw logError(`creating stream ${name}`, error);
      }
    }
    this.#streams.add(name);
  }

  /**
   * Makes `spec` a fleet collection: its stream exists and the catalog lists it, so every shard server of
   * the fleet creates it and follows its log. Idempotent.
   */
  async register(spec: Omit<CollectionSpec, 'buckets'>): Promise<void> {
    await this.ensureStream(spec.collection);
    await (await this.catalog()).putCollection({ ...spec, buckets: this.buckets });
  }

  /** Removes the collection from the catalog (shard servers stop following it), then its stream. */
  async unregister(collection: string): Promise<void> {
    await (await this.catalog()).deleteCollection(collection);
    await this.deleteStream(collection);
  }

  /** The fleet catalog on this log's connection. */
  catalog(): Promise<FleetCatalog> {
    this.#catalog ??= FleetCatalog.open(this.#nc, { prefix: this.prefix, replicas: this.#options.replicas });
    return this.#catalog;
  }

  /** The fleet's live members (their addresses: where a shard map's member ids are reached). */
  async members(): Promise<MemberRecord[]> {
    this.#membership ??= Membership.open(this.#nc, { prefix: this.prefix, replicas: this.#options.replicas });
    const membership = await this.#membership.catch((error: unknown) => {
      this.#membership = undefined;
      throw error;
    });
    return membership.members();
  }

  /** Removes the collection's stream (its whole log). */
  async deleteStream(collection: string): Promise<boolean> {
    const name = streamName(this.prefix, collection);
    this.#streams.delete(name);
    try {
      return await this.#jsm.streams.delete(name);
    } catch (error) {
      if (/not found/i.test(String(error))) return false;
      throw logError(`deleting stream ${name}`, error);
    }
  }

  /** Appends an upsert: one message per bucket its ids fall in. Resolves after every PubAck. */
  async appendUpsert(collection: string, write: LogUpsert): Promise<LogPosition> {
    const n = write.ids.length;
    if (n === 0) throw new InvalidArgumentError('an upsert needs at least one id');
    if (write.vectors.length !== n * write.dim) throw new InvalidArgumentError(`vectors hold ${write.vectors.length} floats, expected ${n} x ${write.dim}`);
    const rows = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const b = bucketOf(write.ids[i]!, this.buckets);
      let list = rows.get(b);
      if (!list) rows.set(b, (list = []));
      list.push(i);
    }
    const frames: [subject: string, frame: Uint8Array][] = [];
    for (const [bucket, idx] of rows) {
      const vectors = new Float32Array(idx.length * write.dim);
      idx.forEach((row, j) => vectors.set(write.vectors.subarray(row * write.dim, (row + 1) * write.dim), j * write.dim));
      const msg: UpsertRequest = { type: 'upsert', collection, dim: write.dim, ids: idx.map((i) => write.ids[i]!), vectors };
      if (write.payloads) msg.payloads = idx.map((i) => write.payloads![i] ?? null);
      frames.push([bucketSubject(this.prefix, collection, bucket), encodeFrame(msg, this.#nextRequestId())]);
    }
    return this.#append(collection, frames);
  }

  /**
   * Appends a delete. By ids: one message per bucket. By filter or `all`: one message on the
   * collection's `all` subject, which every replica applies to the documents it holds at that log
   * position (so replicas that agree before it agree after it).
   */
  async appendDelete(collection: string, what: LogDelete): Promise<LogPosition> {
    if ('ids' in what) {
      const byBucket = new Map<number, string[]>();
      for (const id of what.ids) {
        const b = bucketOf(id, this.buckets);
        const list = byBucket.get(b);
        if (list) list.push(id);
        else byBucket.set(b, [id]);
      }
      const frames: [string, Uint8Array][] = [...byBucket].map(([bucket, ids]) => {
        const msg: DeleteRequest = { type: 'delete', collection, ids };
        return [bucketSubject(this.prefix, collection, bucket), encodeFrame(msg, this.#nextRequestId())];
      });
      if (frames.length === 0) throw new InvalidArgumentError('a delete by ids needs at least one id');
      return this.#append(collection, frames);
    }
    const msg: DeleteRequest = 'filter' in what ? { type: 'delete', collection, filter: what.filter } : { type: 'delete', collection, all: true };
    return this.#append(collection, [[bucketSubject(this.prefix, collection, EVERY_BUCKET), encodeFrame(msg, this.#nextRequestId())]]);
  }

  /** The stream's last sequence (0 when empty). */
  async lastSeq(collection: string): Promise<number> {
    try {
      return (await this.#jsm.streams.info(streamName(this.prefix, collection))).state.last_seq;
    } catch (error) {
      throw logError('stream info', error);
    }
  }

  /** Closes the connection when this log opened it. */
  async close(): Promise<void> {
    if (this.#ownsConnection) await this.#nc.close().catch(() => undefined);
  }

  async #append(collection: string, frames: [string, Uint8Array][]): Promise<LogPosition> {
    await this.ensureStream(collection);
    const deadline = performance.now() + this.#options.writeTimeoutMs;
    // The message id is the frame's request id within this writer's session: a retried publish of the
    // same message carries the same id and the stream keeps one copy (within the duplicate window).
    const seqs = await Promise.all(frames.map(([subject, frame]) => this.#publish(subject, frame, `${this.#session}.${requestIdOf(frame)}`, deadline)));
    return { seq: Math.max(...seqs), messages: frames.length };
  }

  async #publish(subject: string, frame: Uint8Array, msgID: string, deadline: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const left = deadline - performance.now();
      if (left <= 0)
        throw new LogUnavailableError(`no PubAck for ${subject} within ${this.#options.writeTimeoutMs} ms; the write may or may not be in the log: retry it`);
      if (this.#nc.isClosed()) throw new LogUnavailableError('the NATS connection is closed');
      try {
        const ack = await this.#js.publish(subject, frame, { msgID, timeout: Math.min(left, 2000) });
        return ack.seq;
      } catch (error) {
        if (!isRetryableNatsFailure(error)) throw logError(`publishing to ${subject}`, error);
        await sleep(Math.min(50 * 2 ** Math.min(attempt, 4), Math.max(0, deadline - performance.now())));
      }
    }
  }

  #nextRequestId(): number {
    this.#requestId = (this.#requestId % 0xffff_fffe) + 1;
    return this.#requestId;
  }
}

/** A frame's request id (docs/protocol.md §3: bytes 8-11 of the header, little-endian). */
function requestIdOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(8, true);
}
