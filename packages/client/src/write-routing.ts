// Splitting one upsert batch into one batch per owning shard.
import type { Payload, SparseVector } from '@ragwire/protocol';
import { shardOf } from './jump-hash';

export interface ShardBatch {
  ids: string[];
  vectors: Float32Array;
  payloads?: (Payload | null)[];
  sparse?: (SparseVector | null)[];
}

/**
 * The rows of `batch` grouped by the shard that owns each id, in their original order; `undefined`
 * for a shard that owns none. With one shard the batch is returned as is (no copy).
 */
export function upsertBatchesByShard(batch: ShardBatch, dim: number, shards: number): (ShardBatch | undefined)[] {
  if (shards === 1) return [batch];
  const n = batch.ids.length;
  const owner = new Uint32Array(n);
  const sizes = new Uint32Array(shards);
  for (let i = 0; i < n; i++) {
    const s = shardOf(batch.ids[i]!, shards);
    owner[i] = s;
    sizes[s]!++;
  }
  const parts: (ShardBatch | undefined)[] = Array.from(sizes, (size) =>
    size === 0
      ? undefined
      : { ids: [], vectors: new Float32Array(size * dim), ...(batch.payloads ? { payloads: [] } : {}), ...(batch.sparse ? { sparse: [] } : {}) },
  );
  const fill = new Uint32Array(shards);
  for (let i = 0; i < n; i++) {
    const s = owner[i]!;
    const part = parts[s]!;
    const row = fill[s]!++;
    part.ids.push(batch.ids[i]!);
    part.vectors.set(batch.vectors.subarray(i * dim, (i + 1) * dim), row * dim);
    if (part.payloads) part.payloads.push(batch.payloads![i] ?? null);
    if (part.sparse) part.sparse.push(batch.sparse![i] ?? null);
  }
  return parts;
}
