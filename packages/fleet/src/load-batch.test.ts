import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, type DeleteRequest, type UpsertRequest } from '@ragwire/protocol';
import type { ApplyTarget } from './apply-target';
import { LoadBatch } from './load-batch';

const upsert = (ids: string[], payloads?: (Record<string, unknown> | null)[]): UpsertRequest => ({
  type: 'upsert',
  collection: 'c',
  dim: 2,
  ids,
  vectors: new Float32Array(ids.flatMap((id) => [id.length, Number(id.slice(1)) || 0])),
  ...(payloads ? { payloads } : {}),
});

/** Records each store write it is given; refuses an upsert holding the id `bad`. */
function recordingTarget(): { target: ApplyTarget; loads: (UpsertRequest | DeleteRequest)[] } {
  const loads: (UpsertRequest | DeleteRequest)[] = [];
  const target = {
    async load(_c: string, write: UpsertRequest | DeleteRequest, within: (id: string) => boolean) {
      if (write.type === 'upsert' && write.ids.includes('bad')) throw new InvalidArgumentError('refused');
      loads.push(write.type === 'upsert' ? { ...write, ids: write.ids.filter(within) } : write);
    },
  } as unknown as ApplyTarget;
  return { target, loads };
}

describe('LoadBatch', () => {
  it('gathers consecutive upserts into one, with their vectors and payloads in order', async () => {
    const { target, loads } = recordingTarget();
    const batch = new LoadBatch(target, 'c', () => undefined);
    await batch.add(upsert(['a1', 'a2']), () => true);
    await batch.add(upsert(['b3', 'x4'], [{ n: 3 }, { n: 4 }]), (id) => id !== 'x4');
    await batch.flush();
    expect(loads).toHaveLength(1);
    const merged = loads[0] as UpsertRequest;
    expect(merged.ids).toEqual(['a1', 'a2', 'b3']);
    expect([...merged.vectors]).toEqual([2, 1, 2, 2, 2, 3]);
    expect(merged.payloads).toEqual([null, null, { n: 3 }]);
  });

  it('closes the batch before an id seen again and before a delete, so later writes still win', async () => {
    const { target, loads } = recordingTarget();
    const batch = new LoadBatch(target, 'c', () => undefined);
    await batch.add(upsert(['a1']), () => true);
    await batch.add(upsert(['b2']), () => true);
    await batch.add(upsert(['a1']), () => true);
    const del: DeleteRequest = { type: 'delete', collection: 'c', filter: { must: [{ key: 'n', eq: 1 }] } };
    await batch.add(del, () => true);
    await batch.add(upsert(['c3']), () => true);
    await batch.flush();
    expect(loads.map((w) => (w.type === 'upsert' ? w.ids.join(',') : 'delete'))).toEqual(['a1,b2', 'a1', 'delete', 'c3']);
  });

  it('writes a refused batch again one write at a time: only the refused write is passed over', async () => {
    const { target, loads } = recordingTarget();
    const refused: unknown[] = [];
    const batch = new LoadBatch(target, 'c', (e) => refused.push(e));
    await batch.add(upsert(['a1']), () => true);
    await batch.add(upsert(['bad']), () => true);
    await batch.add(upsert(['c3']), () => true);
    await batch.flush();
    expect(loads.map((w) => (w as UpsertRequest).ids.join(','))).toEqual(['a1', 'c3']);
    expect(refused).toHaveLength(1);
  });
});
