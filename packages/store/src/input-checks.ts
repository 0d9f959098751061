// What a write or query must hold before it reaches LMDB or the engine (Collection's input checks).
import { DEFAULT_LIMITS, DimensionMismatchError, InvalidArgumentError, LimitExceededError, NonFiniteVectorError } from '@ragwire/protocol';

const MAX_ID_BYTES = DEFAULT_LIMITS.maxIdBytes;

/** The ids of one write: non-empty strings of at most MAX_ID_BYTES, none twice. Returns how many. */
export function checkIds(ids: unknown, allowEmpty = false): number {
  if (!Array.isArray(ids) || (!allowEmpty && ids.length === 0)) {
    throw new InvalidArgumentError('ids must be a non-empty array of strings');
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError(`every id must be a non-empty string, got ${JSON.stringify(id)}`);
    if (Buffer.byteLength(id) > MAX_ID_BYTES) throw new LimitExceededError(`an id must be at most ${MAX_ID_BYTES} bytes, got ${Buffer.byteLength(id)}`);
    if (seen.has(id)) throw new InvalidArgumentError(`id ${JSON.stringify(id)} appears twice in one write`);
    seen.add(id);
  }
  return ids.length;
}

/** Float32 rows of the collection's dimension (`rows` of them when given), every value finite. */
export function checkVectors(vectors: unknown, settings: { name: string; dim: number }, rows: number | undefined, what: string): void {
  const dim = settings.dim;
  if (!(vectors instanceof Float32Array)) throw new InvalidArgumentError(`${what} must be a Float32Array`);
  if (rows !== undefined ? vectors.length !== rows * dim : vectors.length % dim !== 0) {
    throw new DimensionMismatchError(
      `${what} hold ${vectors.length} floats; the collection ${settings.name} has dim ${dim}` + (rows !== undefined ? ` (expected ${rows} x ${dim})` : ''),
    );
  }
  // Checked before the commit: nothing non-finite may reach the durable log.
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i]!;
    if (v - v !== 0) throw new NonFiniteVectorError(`${what} row ${Math.floor(i / dim)} holds ${v} at dimension ${i % dim}`);
  }
}
