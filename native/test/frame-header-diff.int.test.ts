// Differential test: the native data plane's frame-header check (src/dataplane/frame_header.cpp)
// against @ragwire/protocol's checkHeader on the same fuzzed headers: the same fault, the same
// error code, the same fatality, or both accept. Headers are mutated from real frames of every
// message type (bit flips, length lies, header fields, random bytes).
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, Prng, checkHeader, encodeFrame, readHeader } from '@ragwire/protocol';
import { sampleMessages } from '../../packages/protocol/src/testing/sample-messages';
import { native } from '../lib/binding';

interface DataplaneAddon {
  frameHeaderChecks(headers: Uint8Array, maxFrameBytes: number): Uint8Array;
  frameFaultCodes(): string[];
}

const FRAMES = Number(process.env.RAGWIRE_DIFF_FRAMES ?? 1_000_000);

describe('native frame header check vs the TypeScript one', () => {
  it(`gives the same verdict on ${FRAMES.toLocaleString('en-US')} fuzzed headers`, () => {
    const addon = native() as unknown as DataplaneAddon;
    const codes = addon.frameFaultCodes();
    const prng = new Prng(14);
    const rand = () => prng.nextU32();
    const below = (n: number) => rand() % n;
    const seeds = sampleMessages().map((m, i) => encodeFrame(m, m.type === 'error' ? 0 : i + 1).subarray(0, 12));
    const headers = new Uint8Array(FRAMES * 12);
    const view = new DataView(headers.buffer);
    for (let i = 0; i < FRAMES; i++) {
      const h = headers.subarray(i * 12, i * 12 + 12);
      h.set(seeds[below(seeds.length)]!);
      const o = i * 12;
      switch (below(8)) {
        case 0:
          for (let j = 1 + below(4); j > 0; j--) h[below(12)]! ^= 1 << below(8);
          break;
        case 1:
          view.setUint32(
            o,
            [0, 1, 7, 8, 9, 12, 4095, 4096, DEFAULT_LIMITS.maxFrameBytes - 4, DEFAULT_LIMITS.maxFrameBytes - 3, 2 ** 31, 2 ** 32 - 1, rand()][below(13)]! >>> 0,
            true,
          );
          break;
        case 2:
          h[4] = below(4);
          break;
        case 3:
          h[5] = below(256);
          break;
        case 4:
          view.setUint16(o + 6, below(4) === 0 ? below(65536) : below(2), true);
          break;
        case 5:
          view.setUint32(o + 8, below(8) === 0 ? 0 : rand(), true);
          break;
        case 6:
          for (let j = 0; j < 12; j++) h[j] = below(256);
          break;
        default:
          break; // the real header
      }
    }
    const verdicts = addon.frameHeaderChecks(headers, DEFAULT_LIMITS.maxFrameBytes);
    const tally: Record<string, number> = {};
    let mismatches = 0;
    for (let i = 0; i < FRAMES; i++) {
      const fault = checkHeader(readHeader(headers, i * 12), DEFAULT_LIMITS);
      const ts = fault === undefined ? 'ok' : `${fault.error.code}${fault.fatal ? ' fatal' : ''}`;
      const v = verdicts[i]!;
      const cc = (v & 0x7f) === 0 ? 'ok' : `${codes[v & 0x7f]}${v & 0x80 ? ' fatal' : ''}`;
      tally[ts] = (tally[ts] ?? 0) + 1;
      if (ts !== cc && mismatches++ < 5) {
        expect.soft(cc, `header ${Buffer.from(headers.subarray(i * 12, i * 12 + 12)).toString('hex')}`).toBe(ts);
      }
    }
    expect(mismatches).toBe(0);
    // Every verdict was reached, so the comparison covered each branch.
    expect(Object.keys(tally).sort()).toEqual([
      'RAGWIRE_ERR_BAD_FRAME',
      'RAGWIRE_ERR_BAD_FRAME fatal',
      'RAGWIRE_ERR_FRAME_TOO_LARGE fatal',
      'RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE',
      'RAGWIRE_ERR_UNSUPPORTED_VERSION',
      'ok',
    ]);
  });
});
