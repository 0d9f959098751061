import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { packValue, unpackChecked } from './msgpack';
import { thrownCode } from './testing/thrown-code';

function check(bytes: Uint8Array | number[], nodes = 1000, depth = 8): unknown {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return unpackChecked(b, 0, b.length, { nodes }, depth, 'meta');
}

describe('unpackChecked (the msgpack subset of §3.1)', () => {
  it('decodes the allowed types', () => {
    const value = { s: 'héllo', n: -5, u: 2 ** 40, f: 0.25, t: true, f2: false, z: null, a: [1, 'x', [2]], m: { k: 'v' } };
    expect(check(packValue(value))).toEqual(value);
    expect(check([0xcf, 0, 0, 0, 1, 0, 0, 0, 0])).toBe(2 ** 32); // uint64 as a number
  });

  it.each([
    ['bin8', [0xc4, 1, 0]],
    ['ext8', [0xc7, 1, 5, 0]],
    ['fixext1', [0xd4, 1, 0]],
    ['timestamp ext', [0xd6, 0xff, 0, 0, 0, 0]],
    ['reserved 0xc1', [0xc1]],
    ['float64 NaN', [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]],
    ['float32 +Infinity', [0xca, 0x7f, 0x80, 0, 0]],
    ['float64 -Infinity', [0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0]],
    ['integer map key', [0x81, 0x01, 0x02]],
    ['__proto__ key', [0x81, 0xa9, ...Buffer.from('__proto__'), 0x80]],
    ['array32 claiming 4 billion items', [0xdd, 0xff, 0xff, 0xff, 0xff, 0x00]],
    ['map32 claiming 4 billion entries', [0xdf, 0xff, 0xff, 0xff, 0xff, 0xa0, 0x00]],
    ['str32 longer than the data', [0xdb, 0, 0, 1, 0, 0x61]],
    ['truncated float', [0xcb, 0, 0]],
    ['trailing bytes', [0xc0, 0xc0]],
    ['empty section', []],
  ])('refuses %s with BAD_FRAME', (_, bytes) => {
    expect(thrownCode(() => check(bytes))).toBe('RAGWIRE_ERR_BAD_FRAME');
  });

  it('bounds nesting depth without recursing past it', () => {
    const deep = new Uint8Array(100_000).fill(0x91); // [[[[...
    deep[deep.length - 1] = 0xc0;
    expect(thrownCode(() => check(deep, 1e9, 32))).toBe('RAGWIRE_ERR_BAD_FRAME');
    expect(check([0x91, 0x91, 0xc0], 10, 3)).toEqual([[null]]);
    expect(thrownCode(() => check([0x91, 0x91, 0x91, 0xc0], 10, 3))).toBe('RAGWIRE_ERR_BAD_FRAME');
  });

  it('charges every value to the node budget', () => {
    const arrayOfEmpties = new Uint8Array([0xdc, 0x03, 0xe8, ...new Array(1000).fill(0x90)]);
    expect(thrownCode(() => check(arrayOfEmpties, 1000))).toBe('RAGWIRE_ERR_LIMIT');
    expect((check(arrayOfEmpties, 1001) as unknown[]).length).toBe(1000);
  });

  it('refuses what a records-enabled msgpackr would emit', () => {
    const records = new Packr({ useRecords: true }).pack([{ a: 1 }, { a: 2 }]);
    expect(thrownCode(() => check(records))).toBe('RAGWIRE_ERR_BAD_FRAME');
  });
});
