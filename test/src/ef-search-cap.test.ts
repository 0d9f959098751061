// Issue 11: one efSearch cap, from the protocol's limits table: the wire, the store and the engine
// accept DEFAULT_LIMITS.maxEfSearch and refuse one more.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, encodeFrame, isRagwireError } from '@ragwire/protocol';
import { openStore } from '@ragwire/store';

const CAP = DEFAULT_LIMITS.maxEfSearch;
const DIM = 4;

function code(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return isRagwireError(error) ? error.code : String(error);
  }
}

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  return run().then(
    () => undefined,
    (error: unknown) => (isRagwireError(error) ? error.code : String(error)),
  );
}

describe('the efSearch cap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ragwire-ef-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is 10,000 in the protocol limits table', () => {
    expect(CAP).toBe(10_000);
  });

  it('is enforced on the wire', () => {
    const query = (efSearch: number) => ({ type: 'query' as const, collection: 'c', dim: DIM, k: 1, vectors: new Float32Array(DIM), options: { efSearch } });
    expect(code(() => encodeFrame(query(CAP), 1))).toBeUndefined();
    expect(code(() => encodeFrame(query(CAP + 1), 1))).toBe('RAGWIRE_ERR_LIMIT');
  });

  it('is enforced by the store, as an index parameter and as a query option', async () => {
    const store = await openStore({ path: dir });
    expect(await codeOf(() => store.createCollection({ name: 'over', dim: DIM, metric: 'l2', params: { efSearch: CAP + 1 } }))).toBe('RAGWIRE_ERR_LIMIT');
    await store.createCollection({ name: 'docs', dim: DIM, metric: 'l2', params: { efSearch: CAP } });
    const c = store.collection('docs');
    await c.upsert({ ids: ['a'], vectors: new Float32Array(DIM).fill(1) });
    const search = (efSearch: number) => c.query({ vectors: new Float32Array(DIM), k: 1, options: { efSearch } });
    expect((await search(CAP)).ids).toEqual(['a']);
    expect(await codeOf(() => search(CAP + 1))).toBe('RAGWIRE_ERR_LIMIT'); // as on the wire
    await store.close();
  });
});
