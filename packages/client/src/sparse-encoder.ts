// A learned sparse encoder (SPLADE, bge-m3's lexical weights, docs/search.md §2) as both adapters take
// it, and its output turned into the store's sparse vectors where it enters.
import { InvalidArgumentError, type SparseVector } from '@ragwire/protocol';

/** One text's term weights: term ids and their weights, in any order, each id at most once. */
export interface SparseWeights {
  indices: ArrayLike<number>;
  values: ArrayLike<number>;
}

/**
 * Maps texts to sparse vectors, as an embeddings object maps them to dense ones: `embedDocuments`
 * at write time, `embedQuery` for a query. Either may return a promise.
 */
export interface SparseEncoder {
  embedDocuments(texts: string[]): SparseWeights[] | Promise<SparseWeights[]>;
  embedQuery(text: string): SparseWeights | Promise<SparseWeights>;
}

const MAX_INDEX = 0xffff_ffff;

/** Throws InvalidArgumentError unless `encoder` has both methods; `who` names the option. */
export function checkSparseEncoder(encoder: unknown, who: string): SparseEncoder {
  const e = encoder as SparseEncoder | null;
  if (typeof e !== 'object' || e === null || typeof e.embedDocuments !== 'function' || typeof e.embedQuery !== 'function') {
    throw new InvalidArgumentError(`${who} must have embedDocuments(texts) and embedQuery(text), each returning { indices, values }`);
  }
  return e;
}

/**
 * The store's form of one encoder output: indices sorted, as Uint32Array, values as Float32Array.
 * Throws InvalidArgumentError, naming `what`, for unequal lengths, an index that is not an integer
 * in 0..2^32-1 or appears twice, or a value that is not finite.
 */
function toSparseVector(w: SparseWeights, what: string): SparseVector {
  if (typeof w !== 'object' || w === null || w.indices?.length === undefined || w.values?.length === undefined || w.indices.length !== w.values.length) {
    throw new InvalidArgumentError(`${what} must be { indices, values } of one length`);
  }
  const order = Array.from({ length: w.indices.length }, (_, i) => i);
  for (const i of order) {
    const ix = w.indices[i]!;
    if (!Number.isInteger(ix) || ix < 0 || ix > MAX_INDEX)
      throw new InvalidArgumentError(`${what}.indices[${i}] must be an integer in 0..${MAX_INDEX}, got ${ix}`);
    if (!Number.isFinite(w.values[i]!)) throw new InvalidArgumentError(`${what}.values[${i}] must be finite, got ${w.values[i]}`);
  }
  order.sort((a, b) => w.indices[a]! - w.indices[b]!);
  const indices = Uint32Array.from(order, (i) => w.indices[i]!);
  for (let j = 1; j < indices.length; j++) if (indices[j] === indices[j - 1]) throw new InvalidArgumentError(`${what}.indices holds ${indices[j]} twice`);
  return { indices, values: Float32Array.from(order, (i) => w.values[i]!) };
}

/** One sparse vector per text, from `encoder.embedDocuments`. */
export async function encodeSparseDocuments(encoder: SparseEncoder, texts: string[]): Promise<SparseVector[]> {
  const out = await encoder.embedDocuments(texts);
  if (!Array.isArray(out) || out.length !== texts.length) {
    throw new InvalidArgumentError(`the sparse encoder returned ${Array.isArray(out) ? out.length : typeof out} vectors for ${texts.length} texts`);
  }
  return out.map((w, i) => toSparseVector(w, `sparse vector ${i}`));
}

/** The query's sparse vector, from `encoder.embedQuery`. */
export async function encodeSparseQuery(encoder: SparseEncoder, text: string): Promise<SparseVector> {
  return toSparseVector(await encoder.embedQuery(text), 'the sparse query vector');
}
