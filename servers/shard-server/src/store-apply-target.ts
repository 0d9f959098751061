// A store as the fleet's write-log applier sees it (@ragwire/fleet ApplyTarget): log writes applied at
// their positions (one by one or grouped), positions recorded, documents exported, dropped and restored.
import type { ApplyTarget } from '@ragwire/fleet';
import { UnknownCollectionError, encodeFrame, type DeleteRequest, type UpsertRequest } from '@ragwire/protocol';
import type { DeleteInput, Store, UpsertInput } from '@ragwire/store';

/** Documents per UPSERT frame of a snapshot. */
const SNAPSHOT_FRAME_DOCS = 256;

/** A log message's write as the store takes it. */
function storeWrite(write: UpsertRequest | DeleteRequest): { upsert: UpsertInput } | { delete: DeleteInput } {
  if (write.type === 'upsert') return { upsert: { ids: write.ids, vectors: write.vectors, ...(write.payloads ? { payloads: write.payloads } : {}) } };
  return { delete: write.ids !== undefined ? { ids: write.ids } : write.filter !== undefined ? { filter: write.filter } : { all: true } };
}

/** The store as the applier sees it. */
export function storeApplyTarget(store: Store): ApplyTarget {
  return {
    async ensureCollection(spec) {
      await store.createCollection({
        name: spec.collection,
        dim: spec.dim,
        metric: spec.metric,
        kind: spec.kind,
        storage: spec.storage,
        ...(spec.params ? { params: spec.params } : {}),
        ifNotExists: true,
      });
    },
    appliedSeq(collection) {
      try {
        return store.collection(collection).logSeq;
      } catch (error) {
        if (error instanceof UnknownCollectionError) return 0;
        throw error;
      }
    },
    async apply(collection, seq, write) {
      await store.collection(collection).applyAt(seq, storeWrite(write));
    },
    async applyGroup(collection, writes) {
      const { refused } = await store.collection(collection).applyGroupAt(writes.map(({ seq, write }) => ({ logSeq: seq, write: storeWrite(write) })));
      return refused.map(({ logSeq, error }) => ({ seq: logSeq, error }));
    },
    async recordPosition(collection, seq) {
      await store.collection(collection).recordLogSeq(seq);
    },
    exportFrames(collection, keep) {
      const c = store.collection(collection);
      const { dim } = c.settings;
      const frames: Uint8Array[] = [];
      let ids: string[] = [];
      let rows: Uint8Array[] = [];
      const flush = (): void => {
        if (ids.length === 0) return;
        const vectors = new Float32Array(ids.length * dim);
        rows.forEach((r, i) => new Uint8Array(vectors.buffer, i * dim * 4, dim * 4).set(r.subarray(0, dim * 4)));
        frames.push(encodeFrame({ type: 'upsert', collection, dim, ids, vectors, payloads: ids.map((id) => c.payload(id)) }, frames.length + 1));
        ids = [];
        rows = [];
      };
      for (const { key, value } of c.dbs.docs.getRange()) {
        if (!keep(key)) continue;
        const bytes = c.dbs.vectors.getBinary(value.label);
        if (!bytes) continue;
        ids.push(key);
        rows.push(Uint8Array.prototype.slice.call(bytes));
        if (ids.length === SNAPSHOT_FRAME_DOCS) flush();
      }
      flush();
      return frames;
    },
    async dropWhere(collection, drop) {
      const c = store.collection(collection);
      const ids: string[] = [];
      for (const key of c.dbs.docs.getKeys()) if (drop(key)) ids.push(key);
      for (let i = 0; i < ids.length; i += SNAPSHOT_FRAME_DOCS) await c.delete({ ids: ids.slice(i, i + SNAPSHOT_FRAME_DOCS) });
      return ids.length;
    },
    async load(collection, write, within) {
      const c = store.collection(collection);
      if (write.type === 'upsert') {
        const keep = write.ids.flatMap((id, i) => (within(id) ? [i] : []));
        if (keep.length === 0) return;
        const { dim } = c.settings;
        const vectors = new Float32Array(keep.length * dim);
        keep.forEach((i, j) => vectors.set(write.vectors.subarray(i * dim, (i + 1) * dim), j * dim));
        const payloads = write.payloads ? keep.map((i) => write.payloads![i] ?? null) : undefined;
        await c.upsert({ ids: keep.map((i) => write.ids[i]!), vectors, ...(payloads ? { payloads } : {}) });
        return;
      }
      const ids =
        write.ids !== undefined
          ? write.ids.filter(within)
          : write.filter !== undefined
            ? c.idsMatching(write.filter).filter(within)
            : [...c.dbs.docs.getKeys()].filter((id) => within(id));
      for (let i = 0; i < ids.length; i += SNAPSHOT_FRAME_DOCS) await c.delete({ ids: ids.slice(i, i + SNAPSHOT_FRAME_DOCS) });
    },
    async restore(collection, seq, writes) {
      const c = store.collection(collection);
      if (c.info().count > 0) await c.delete({ all: true });
      for (const w of writes) await c.upsert({ ids: w.ids, vectors: w.vectors, ...(w.payloads ? { payloads: w.payloads } : {}) });
      // The position last, alone: a crash before it leaves the replica to restore again (upserts are idempotent).
      await c.applyAt(seq, { delete: { ids: [] } });
    },
  };
}
