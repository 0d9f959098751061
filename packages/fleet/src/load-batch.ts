// Writes of a load (bucket-loader.ts) gathered into fewer store writes: consecutive upserts, restricted to
// the buckets being loaded, become one upsert of at most LOAD_BATCH_DOCS documents, with the result of
// applying them one by one (an id seen again closes the batch first, so the later write still wins); a
// delete is applied alone, after the batch before it; a batch the store refuses is written again one write
// at a time, so only a refused write is passed over. Each store write is a transaction, so a replay of
// many small bucket messages costs a few of them instead of one each.
import { isRagwireError, type DeleteRequest, type UpsertRequest } from '@ragwire/protocol';
import type { ApplyTarget } from './apply-target';

/** Documents per gathered upsert at most. */
const LOAD_BATCH_DOCS = 4096;

export class LoadBatch {
  #writes: UpsertRequest[] = [];
  #ids = new Set<string>();

  constructor(
    readonly target: ApplyTarget,
    readonly collection: string,
    /** Told of a write the store refused (passed over, as at its position on every replica). */
    readonly onRefused: (error: unknown) => void,
  ) {}

  /** Adds `write`, restricted to the ids for which `within` is true. */
  async add(write: UpsertRequest | DeleteRequest, within: (id: string) => boolean): Promise<void> {
    if (write.type === 'delete') {
      await this.flush();
      return void (await this.#load(write, within));
    }
    const part = subset(write, within);
    if (!part) return;
    if (part.ids.some((id) => this.#ids.has(id)) || this.#ids.size + part.ids.length > LOAD_BATCH_DOCS) await this.flush();
    this.#writes.push(part);
    for (const id of part.ids) this.#ids.add(id);
  }

  /** Writes what was gathered. */
  async flush(): Promise<void> {
    const writes = this.#writes;
    if (writes.length === 0) return;
    this.#writes = [];
    this.#ids = new Set();
    if (writes.length === 1) return void (await this.#load(writes[0]!, () => true));
    // A refused batch is written again one write at a time: only the refused writes are passed over.
    if (!(await this.#load(merge(writes), () => true, false))) for (const w of writes) await this.#load(w, () => true);
  }

  /** Loads `write`; false when the store refused it (said to onRefused when `tell`). */
  async #load(write: UpsertRequest | DeleteRequest, within: (id: string) => boolean, tell = true): Promise<boolean> {
    try {
      await this.target.load(this.collection, write, within);
      return true;
    } catch (error) {
      // A refusal by the store (its 4xx errors): passed over, as at its position on every replica.
      if (!(isRagwireError(error) && error.status < 500)) throw error;
      if (tell) this.onRefused(error);
      return false;
    }
  }
}

/** The documents of `write` for which `keep` is true, or undefined when none. */
export function subset(write: UpsertRequest, keep: (id: string) => boolean): UpsertRequest | undefined {
  const rows = write.ids.flatMap((id, i) => (keep(id) ? [i] : []));
  if (rows.length === write.ids.length) return write;
  if (rows.length === 0) return undefined;
  const { dim } = write;
  const vectors = new Float32Array(rows.length * dim);
  rows.forEach((i, j) => vectors.set(write.vectors.subarray(i * dim, (i + 1) * dim), j * dim));
  return {
    ...write,
    ids: rows.map((i) => write.ids[i]!),
    vectors,
    ...(write.payloads ? { payloads: rows.map((i) => write.payloads![i] ?? null) } : {}),
    ...(write.sparse ? { sparse: rows.map((i) => write.sparse![i] ?? null) } : {}),
  };
}

/** One upsert of `writes`' documents (no id in two of them): a missing payload or sparse vector is null. */
function merge(writes: UpsertRequest[]): UpsertRequest {
  const { dim } = writes[0]!;
  const n = writes.reduce((sum, w) => sum + w.ids.length, 0);
  const vectors = new Float32Array(n * dim);
  let at = 0;
  for (const w of writes) vectors.set(w.vectors.subarray(0, w.ids.length * dim), at), (at += w.ids.length * dim);
  const column = <T>(pick: (w: UpsertRequest) => (T | null)[] | undefined): (T | null)[] | undefined =>
    writes.some((w) => pick(w) !== undefined) ? writes.flatMap((w) => pick(w) ?? w.ids.map(() => null)) : undefined;
  const payloads = column((w) => w.payloads);
  const sparse = column((w) => w.sparse);
  return {
    ...writes[0]!,
    ids: writes.flatMap((w) => w.ids),
    vectors,
    ...(payloads ? { payloads } : {}),
    ...(sparse ? { sparse } : {}),
  };
}
