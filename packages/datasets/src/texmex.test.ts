import { describe, expect, it } from 'vitest';
import { readBvecs, readFvecs, readIvecs, readRawFloat32, writeBvecs, writeFvecs, writeIvecs, writeRawFloat32 } from './index';

describe('TEXMEX readers', () => {
  it('round-trips bvecs into float32 rows', () => {
    const rows = [0, 1, 2, 255, 7, 8, 9, 10, 128, 64, 32, 16];
    const bytes = writeBvecs(rows, 4);
    expect(bytes.byteLength).toBe(3 * (4 + 4));
    const r = readBvecs(bytes);
    expect(r.dim).toBe(4);
    expect(r.count).toBe(3);
    expect(r.data).toBeInstanceOf(Float32Array);
    expect(Array.from(r.data)).toEqual(rows);
  });

  it('round-trips fvecs exactly', () => {
    const rows = Float32Array.from([0.5, -1.25, 3e-8, 1e30, -0, 42]);
    const r = readFvecs(writeFvecs(rows, 3));
    expect(r).toMatchObject({ dim: 3, count: 2 });
    expect(r.data).toEqual(rows);
  });

  it('round-trips ivecs into Int32Array rows', () => {
    const rows = Int32Array.from([1, -2, 2147483647, -2147483648]);
    const r = readIvecs(writeIvecs(rows, 2));
    expect(r).toMatchObject({ dim: 2, count: 2 });
    expect(r.data).toBeInstanceOf(Int32Array);
    expect(r.data).toEqual(rows);
  });

  it('round-trips raw little-endian float32, also from an unaligned view', () => {
    const values = Float32Array.from([1.5, -2.5, Math.PI, 0]);
    const bytes = writeRawFloat32(values);
    expect(new DataView(bytes.buffer).getFloat32(0, true)).toBe(1.5);
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    expect(readRawFloat32(shifted.subarray(1), 2)).toEqual(values);
  });

  it('reads an empty file as zero rows', () => {
    expect(readFvecs(new Uint8Array(0))).toMatchObject({ dim: 0, count: 0 });
  });

  it('refuses a truncated file, a mixed-dim file and a bad raw length', () => {
    const bytes = writeFvecs(new Float32Array(6), 3);
    expect(() => readFvecs(bytes.subarray(0, bytes.byteLength - 1))).toThrow(/whole number/);
    const mixed = new Uint8Array(bytes);
    new DataView(mixed.buffer).setInt32(16, 2, true);
    expect(() => readFvecs(mixed)).toThrow(/record 1 has dim 2/);
    expect(() => readRawFloat32(new Uint8Array(6))).toThrow(/multiple of 4/);
    expect(() => readRawFloat32(new Uint8Array(12), 2)).toThrow(/rows of dim 2/);
    expect(() => writeBvecs([256], 1)).toThrow(/not a byte/);
  });
});
