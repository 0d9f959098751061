/**
 * Readers and writers for the TEXMEX vector formats (corpus-texmex.irisa.fr)
 * and raw little-endian float32. Every TEXMEX record is `int32 dim` (little
 * endian) followed by `dim` components: uint8 (.bvecs), float32 (.fvecs) or
 * int32 (.ivecs). All records of a file share one dim.
 */
import { readFileSync } from 'node:fs';

/** Row-major vectors: row i is `data.subarray(i * dim, (i + 1) * dim)`. */
export interface VectorRows<T extends Float32Array | Int32Array> {
  dim: number;
  count: number;
  data: T;
}

type Component = 'uint8' | 'float32' | 'int32';
const COMPONENT_BYTES: Record<Component, number> = { uint8: 1, float32: 4, int32: 4 };

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads the common header and checks that the file is a whole number of same-dim records. */
function layout(bytes: Uint8Array, component: Component, what: string): { dim: number; count: number; recordBytes: number } {
  if (bytes.byteLength === 0) return { dim: 0, count: 0, recordBytes: 4 };
  if (bytes.byteLength < 4) throw new RangeError(`${what}: ${bytes.byteLength} bytes is shorter than one record header`);
  const dim = view(bytes).getInt32(0, true);
  if (dim <= 0) throw new RangeError(`${what}: first record has dim ${dim}; expected a positive int32`);
  const recordBytes = 4 + dim * COMPONENT_BYTES[component];
  if (bytes.byteLength % recordBytes !== 0) {
    throw new RangeError(`${what}: ${bytes.byteLength} bytes is not a whole number of ${recordBytes}-byte records (dim ${dim})`);
  }
  const count = bytes.byteLength / recordBytes;
  const dv = view(bytes);
  for (let i = 1; i < count; i++) {
    const d = dv.getInt32(i * recordBytes, true);
    if (d !== dim) throw new RangeError(`${what}: record ${i} has dim ${d}, record 0 has ${dim}`);
  }
  return { dim, count, recordBytes };
}

/** Decodes .bvecs (uint8 components) into float32 rows. */
export function readBvecs(bytes: Uint8Array): VectorRows<Float32Array> {
  const { dim, count, recordBytes } = layout(bytes, 'uint8', 'bvecs');
  const data = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const start = i * recordBytes + 4;
    data.set(bytes.subarray(start, start + dim), i * dim);
  }
  return { dim, count, data };
}

/** Decodes .fvecs (float32 components). */
export function readFvecs(bytes: Uint8Array): VectorRows<Float32Array> {
  const { dim, count, recordBytes } = layout(bytes, 'float32', 'fvecs');
  const data = new Float32Array(count * dim);
  const dv = view(bytes);
  for (let i = 0; i < count; i++) {
    const start = i * recordBytes + 4;
    const out = i * dim;
    for (let j = 0; j < dim; j++) data[out + j] = dv.getFloat32(start + 4 * j, true);
  }
  return { dim, count, data };
}

/** Decodes .ivecs (int32 components), the format of TEXMEX ground-truth files. */
export function readIvecs(bytes: Uint8Array): VectorRows<Int32Array> {
  const { dim, count, recordBytes } = layout(bytes, 'int32', 'ivecs');
  const data = new Int32Array(count * dim);
  const dv = view(bytes);
  for (let i = 0; i < count; i++) {
    const start = i * recordBytes + 4;
    const out = i * dim;
    for (let j = 0; j < dim; j++) data[out + j] = dv.getInt32(start + 4 * j, true);
  }
  return { dim, count, data };
}

/** Decodes headerless little-endian float32; `dim` (optional) checks that the length is a whole number of rows. */
export function readRawFloat32(bytes: Uint8Array, dim?: number): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`raw float32: ${bytes.byteLength} bytes is not a multiple of 4`);
  const n = bytes.byteLength / 4;
  if (dim !== undefined && (!Number.isInteger(dim) || dim <= 0 || n % dim !== 0)) {
    throw new RangeError(`raw float32: ${n} floats is not a whole number of rows of dim ${dim}`);
  }
  const data = new Float32Array(n);
  const dv = view(bytes);
  for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
  return data;
}

function checkRows(length: number, dim: number, what: string): number {
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`${what}: dim must be a positive integer, got ${dim}`);
  if (length % dim !== 0) throw new RangeError(`${what}: ${length} components is not a whole number of rows of dim ${dim}`);
  return length / dim;
}

/** Encodes rows as .bvecs; every component must be an integer in 0..255. */
export function writeBvecs(data: ArrayLike<number>, dim: number): Uint8Array {
  const count = checkRows(data.length, dim, 'bvecs');
  const out = new Uint8Array(count * (4 + dim));
  const dv = view(out);
  for (let i = 0; i < count; i++) {
    const start = i * (4 + dim);
    dv.setInt32(start, dim, true);
    for (let j = 0; j < dim; j++) {
      const v = data[i * dim + j]!;
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`bvecs: component ${i * dim + j} is ${v}, not a byte`);
      out[start + 4 + j] = v;
    }
  }
  return out;
}

function writeWords(data: ArrayLike<number>, dim: number, what: 'fvecs' | 'ivecs'): Uint8Array {
  const count = checkRows(data.length, dim, what);
  const recordBytes = 4 + 4 * dim;
  const out = new Uint8Array(count * recordBytes);
  const dv = view(out);
  for (let i = 0; i < count; i++) {
    const start = i * recordBytes;
    dv.setInt32(start, dim, true);
    for (let j = 0; j < dim; j++) {
      const v = data[i * dim + j]!;
      if (what === 'fvecs') dv.setFloat32(start + 4 + 4 * j, v, true);
      else dv.setInt32(start + 4 + 4 * j, v, true);
    }
  }
  return out;
}

/** Encodes rows as .fvecs. */
export function writeFvecs(data: ArrayLike<number>, dim: number): Uint8Array {
  return writeWords(data, dim, 'fvecs');
}

/** Encodes rows as .ivecs. */
export function writeIvecs(data: ArrayLike<number>, dim: number): Uint8Array {
  return writeWords(data, dim, 'ivecs');
}

/** Encodes float32 values as headerless little-endian bytes. */
export function writeRawFloat32(data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const dv = view(out);
  for (let i = 0; i < data.length; i++) dv.setFloat32(4 * i, data[i]!, true);
  return out;
}

/** File conveniences over the decoders above. */
export const readBvecsFile = (path: string): VectorRows<Float32Array> => readBvecs(readFileSync(path));
export const readFvecsFile = (path: string): VectorRows<Float32Array> => readFvecs(readFileSync(path));
export const readIvecsFile = (path: string): VectorRows<Int32Array> => readIvecs(readFileSync(path));
export const readRawFloat32File = (path: string, dim?: number): Float32Array => readRawFloat32(readFileSync(path), dim);
