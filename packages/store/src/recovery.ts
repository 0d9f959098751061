// Bringing a collection's derived state back from LMDB: the label map and
// filter index from the documents; the engine index from its snapshot plus
// the write log since, or rebuilt from the stored vectors.
import { existsSync } from 'node:fs';
import { createIndex, loadIndex, type Device, type Index } from '@ragwire/native';
import { DEFAULT_TEXT_SETTINGS, InvalidArgumentError } from '@ragwire/protocol';
import type { CollectionDbs, CollectionRecord } from './records';
import { FilterIndex } from './filter-index';
import { indexOptions, mayPlaceOnDisk, vectorsPath } from './settings';
import { TextRecovery, textSnapshotPath } from './text/derive';
import type { SparseIndex } from './text/sparse-index';
import type { TextIndex } from './text/text-index';

const BATCH = 8192;

export interface DerivedState {
  index: Index;
  labelToId: Map<number, string>;
  filters: FilterIndex;
  text: TextIndex;
  sparse: SparseIndex;
  snapshotSeq: number;
  /** How the index came back: 'snapshot' (+ replayed log), 'rebuilt' or 'empty'. */
  source: 'snapshot' | 'rebuilt' | 'empty';
  /** Why the index was rebuilt from LMDB although the collection has documents. */
  rebuilt?: { reason: RebuildReason; detail: string };
}

/**
 * Why a snapshot could not be used: none on disk, unreadable (truncated, bit-flipped), of another
 * incarnation or settings or newer than LMDB, or holding other rows than LMDB once the log was replayed.
 */
export type RebuildReason = 'missing' | 'corrupt' | 'stale' | 'inconsistent';

/** What a snapshot's userData holds, so a file is never applied to the wrong collection. */
export interface SnapshotTag {
  incarnation: string;
  seq: number;
}

export function encodeTag(tag: SnapshotTag): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(tag));
}

function decodeTag(bytes: Uint8Array | null): SnapshotTag | null {
  if (!bytes) return null;
  try {
    const t = JSON.parse(new TextDecoder().decode(bytes)) as SnapshotTag;
    return typeof t.incarnation === 'string' && Number.isInteger(t.seq) ? t : null;
  } catch {
    return null;
  }
}

/** How the store's indexes run: their device, and @ragwire/native's inline search budget. */
export interface EngineOptions {
  device: Device;
  inlineSearchBudget: number;
  vectors: 'memory' | 'disk';
}

export async function recover(dbs: CollectionDbs, record: CollectionRecord, snapshotPath: string, engine: EngineOptions): Promise<DerivedState> {
  // The device serves flat search and hnsw builds; bq runs on the CPU whatever the store was given.
  const onDisk = engine.vectors === 'disk' && mayPlaceOnDisk(record.settings);
  // Vectors on disk are read by the CPU's rerank: such a collection runs there too.
  const where: Device = record.settings.kind === 'bq' || onDisk ? 'cpu' : engine.device;
  const placement = onDisk ? { vectors: 'disk' as const, vectorsPath: vectorsPath(snapshotPath) } : {};
  const { inlineSearchBudget } = engine;
  const labelToId = new Map<number, string>();
  const filters = new FilterIndex();
  const lexical = new TextRecovery(textSnapshotPath(snapshotPath), record.incarnation, record.settings.text ?? DEFAULT_TEXT_SETTINGS);
  for (const { key, value } of dbs.docs.getRange()) {
    labelToId.set(value.label, key);
    filters.add(value.label, value.metadata);
    lexical.visit(value);
  }
  const { text, sparse } = lexical.finish();

  const snapshot = await loadSnapshot(snapshotPath, record, where, inlineSearchBudget, onDisk);
  let rebuilt: DerivedState['rebuilt'];
  if ('index' in snapshot) {
    const { index, seq } = snapshot;
    await replayLog(dbs, index, seq, record.settings.dim);
    if (index.size === labelToId.size) return { index, labelToId, filters, text, sparse, snapshotSeq: seq, source: 'snapshot' };
    rebuilt = { reason: 'inconsistent', detail: `the snapshot holds ${index.size} rows after replaying the log, LMDB ${labelToId.size} documents` };
    index.close(); // disagrees with the documents: trust LMDB and rebuild
  } else rebuilt = snapshot;
  const index = createIndex({ ...indexOptions(record.settings), ...placement, device: where, inlineSearchBudget });
  await addStoredVectors(dbs, index, record.settings.dim, null);
  if (labelToId.size === 0) return { index, labelToId, filters, text, sparse, snapshotSeq: 0, source: 'empty' };
  return { index, labelToId, filters, text, sparse, snapshotSeq: 0, source: 'rebuilt', rebuilt };
}

async function loadSnapshot(
  path: string,
  record: CollectionRecord,
  device: Device,
  inlineSearchBudget: number,
  onDisk: boolean,
): Promise<{ index: Index; seq: number } | { reason: RebuildReason; detail: string }> {
  if (!existsSync(path)) return { reason: 'missing', detail: `no snapshot at ${path}` };
  let index: Awaited<ReturnType<typeof loadIndex>>;
  try {
    // A disk-resident snapshot's vector file is the one beside it, wherever the store's directory moved.
    index = await loadIndex(path, { device, inlineSearchBudget, ...(onDisk ? { vectorsPath: vectorsPath(path) } : {}) });
  } catch (error) {
    if (onDisk && error instanceof InvalidArgumentError)
      return { reason: 'stale', detail: 'the snapshot holds its vectors in memory; the store places them on disk' };
    return { reason: 'corrupt', detail: (error as Error).message };
  }
  if ((index.stats().vectors === 'disk') !== onDisk) {
    index.close();
    return {
      reason: 'stale',
      detail: `the snapshot's vectors are ${onDisk ? 'in memory' : 'on disk'}; the store places them ${onDisk ? 'on disk' : 'in memory'}`,
    };
  }
  const tag = decodeTag(index.userData);
  const s = record.settings;
  if (
    !tag ||
    tag.incarnation !== record.incarnation ||
    tag.seq > record.seq ||
    index.dim !== s.dim ||
    index.metric !== s.metric ||
    index.kind !== s.kind ||
    index.storage !== s.storage ||
    (index.stats().inlineCodes ?? false) !== indexOptions(s).hnsw?.inlineCodes
  ) {
    index.close();
    const detail = !tag
      ? 'the snapshot carries no collection tag'
      : tag.incarnation !== record.incarnation
        ? `the snapshot is of incarnation ${tag.incarnation}, the collection ${record.incarnation}`
        : tag.seq > record.seq
          ? `the snapshot is at seq ${tag.seq}, LMDB at ${record.seq}`
          : 'the snapshot was made with other index settings';
    return { reason: 'stale', detail };
  }
  return { index, seq: tag.seq };
}

/** Applies the net effect of the writes logged after `seq` to a snapshot's index. */
async function replayLog(dbs: CollectionDbs, index: Index, seq: number, dim: number): Promise<void> {
  const added = new Set<number>();
  const removed = new Set<number>();
  for (const { value } of dbs.log.getRange({ start: seq + 1 })) {
    for (const label of value.remove) {
      if (!added.delete(label)) removed.add(label);
    }
    for (const label of value.add) added.add(label);
  }
  if (removed.size) await index.remove(Uint32Array.from(removed));
  if (added.size) await addStoredVectors(dbs, index, dim, added);
}

/** Adds stored vectors (all, or only the given labels) to the index in batches. */
async function addStoredVectors(dbs: CollectionDbs, index: Index, dim: number, only: Set<number> | null): Promise<void> {
  let labels = new Uint32Array(BATCH);
  let vectors = new Float32Array(BATCH * dim);
  let bytes = new Uint8Array(vectors.buffer);
  let n = 0;
  const flush = async () => {
    if (n === 0) return;
    await index.add(labels.subarray(0, n), vectors.subarray(0, n * dim));
    labels = new Uint32Array(BATCH);
    vectors = new Float32Array(BATCH * dim);
    bytes = new Uint8Array(vectors.buffer);
    n = 0;
  };
  const rows = only ? [...only].sort((a, b) => a - b).map((key) => ({ key, value: dbs.vectors.get(key) })) : dbs.vectors.getRange();
  for (const { key, value } of rows) {
    if (!value) continue;
    labels[n] = key;
    bytes.set(value, n * dim * 4);
    if (++n === BATCH) await flush();
  }
  await flush();
}
