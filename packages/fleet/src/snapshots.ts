// Snapshots of a replica's documents in the JetStream object store, for a replica whose log was trimmed
// past its position: it loads the snapshot of the buckets it holds, then replays the log from the
// snapshot's sequence. One object per (collection, bucket set): the latest upload wins.
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { BadFrameError, decodeFrame, fnv1a64, type UpsertRequest } from '@ragwire/protocol';
import { collectionToken, DEFAULT_PREFIX } from './buckets';
import { logError } from './nats-errors';

/** A name for a set of buckets (replicas of one shard hold the same set, so share snapshots); undefined: every bucket. */
export function bucketSetKey(buckets: Set<number> | undefined): string {
  if (buckets === undefined) return 'all';
  const [hi, lo] = fnv1a64([...buckets].sort((a, b) => a - b).join(','));
  return `b${buckets.size}-${hi.toString(16)}${lo.toString(16)}`;
}

export interface Snapshot {
  /** The log sequence the documents are at: replay from seq + 1. */
  seq: number;
  /** The documents as UPSERT requests. */
  writes: UpsertRequest[];
}

export class SnapshotStore {
  readonly #os: ObjectStore;

  private constructor(os: ObjectStore) {
    this.#os = os;
  }

  /** Opens (creating if missing) the object store `<prefix>-snapshots`. */
  static async open(nc: NatsConnection, options: { prefix?: string; replicas?: number } = {}): Promise<SnapshotStore> {
    const name = `${options.prefix ?? DEFAULT_PREFIX}-snapshots`;
    const objm = new Objm(nc);
    try {
      const os = await objm.open(name).catch(() => objm.create(name, { replicas: options.replicas ?? 1 }));
      return new SnapshotStore(os);
    } catch (error) {
      throw logError('opening the snapshot store', error);
    }
  }

  /** Uploads the documents of `bucketSet` at log position `seq` as concatenated UPSERT frames (docs/protocol.md §3). */
  async put(collection: string, bucketSet: string, seq: number, frames: Uint8Array[]): Promise<void> {
    let size = 0;
    for (const f of frames) size += f.length;
    const blob = new Uint8Array(size);
    let at = 0;
    for (const f of frames) blob.set(f, at), (at += f.length);
    try {
      await this.#os.putBlob({ name: `${collectionToken(collection)}/${bucketSet}`, metadata: { seq: String(seq), frames: String(frames.length) } }, blob);
    } catch (error) {
      throw logError('uploading a snapshot', error);
    }
  }

  /** The latest snapshot of `bucketSet`, or undefined. */
  async get(collection: string, bucketSet: string): Promise<Snapshot | undefined> {
    const name = `${collectionToken(collection)}/${bucketSet}`;
    try {
      const info = await this.#os.info(name);
      if (!info || info.deleted) return undefined;
      const blob = await this.#os.getBlob(name);
      if (!blob) return undefined;
      const writes: UpsertRequest[] = [];
      const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
      for (let at = 0; at < blob.length; ) {
        const bytes = view.getUint32(at, true) + 4; // the length prefix counts the bytes after itself (docs/protocol.md §3)
        const { message } = decodeFrame(blob.slice(at, at + bytes));
        if (message.type !== 'upsert') throw new BadFrameError(`snapshot ${name} holds a ${message.type}`);
        writes.push(message);
        at += bytes;
      }
      return { seq: Number(info.metadata?.seq), writes };
    } catch (error) {
      throw logError('reading a snapshot', error);
    }
  }
}
