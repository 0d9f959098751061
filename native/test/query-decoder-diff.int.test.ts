// Differential test: the native data plane's QUERY decoder (src/dataplane/query_decoder.cpp) against
// @ragwire/protocol's decodeFrame on the same fuzzed frames: the same message, field by field and
// with its vectors viewing the same bytes, or the same error code. Frames of other types must be
// "not mine" to the native decoder. RAGWIRE_DIFF_FRAMES sets the count (CI: 200,000; the full
// check: 1,000,000), RAGWIRE_DIFF_SEED the seed.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  HEADER_BYTES,
  checkHeader,
  readHeader,
  MAX_FILTER_KEY_BYTES,
  MAX_FILTER_STRING_CHARS,
  MessageType,
  Prng,
  decodeFrame,
  isRagwireError,
  resolveLimits,
  type Extension,
  type ProtocolLimits,
} from '@ragwire/protocol';
import { native } from '../lib/binding';
import { QueryFrameFuzzer } from './query-frames';

type Verdict = string | Record<string, unknown>;

interface DataplaneAddon {
  queryDecodes(frames: Uint8Array, ends: Uint32Array, trace: boolean, limits?: Record<string, number>): Verdict[];
}

const FRAMES = Number(process.env.RAGWIRE_DIFF_FRAMES ?? 200_000);
const SEED = Number(process.env.RAGWIRE_DIFF_SEED ?? 0x9e41);
const BATCH = 10_000;

/** Limits small enough that the fuzzer's frames cross each of them. */
const SMALL_LIMITS = resolveLimits({
  maxFrameBytes: 512,
  maxK: 20,
  maxQueryBatch: 4,
  maxDim: 6,
  maxFilterConditions: 3,
  maxFilterValues: 3,
  maxStructuredNodes: 40,
  maxStructuredDepth: 4,
  maxEfSearch: 100,
  maxQueryTextBytes: 12,
  maxSparseEntries: 2,
});

/** Deep equality where typed arrays must view the same bytes of the same buffer. */
function sameValue(a: unknown, b: unknown): boolean {
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) return false;
    return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
  }
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** decodeFrame's verdict; a frame of another type whose header and length pass is "not mine" whatever its body. */
function tsVerdict(frame: Uint8Array, limits: ProtocolLimits, extensions: ReadonlySet<Extension>): Verdict {
  if (frame.length >= HEADER_BYTES) {
    const h = readHeader(frame, 0);
    if (h.type !== MessageType.QUERY && checkHeader(h, limits) === undefined && h.frameBytes === frame.length) return 'not-mine';
  }
  try {
    return decodeFrame(frame, limits, extensions).message as unknown as Record<string, unknown>;
  } catch (error) {
    if (!isRagwireError(error)) throw error;
    return error.code;
  }
}

describe('native QUERY decoder vs the TypeScript one', () => {
  // About 0.15 ms a frame on a shared core: the full million needs more than the default timeout.
  it(`gives the same verdict on ${FRAMES.toLocaleString('en-US')} fuzzed frames`, { timeout: Math.max(120_000, FRAMES * 0.5) }, () => {
    const addon = native() as unknown as DataplaneAddon;
    const fuzzer = new QueryFrameFuzzer(new Prng(SEED));
    const tally: Record<string, number> = {};
    let mismatches = 0;
    const started = performance.now();
    for (let done = 0, batch = 0; done < FRAMES; batch++) {
      const count = Math.min(BATCH, FRAMES - done);
      // Every fourth batch under small limits; every other one with the trace extension on.
      const small = batch % 4 === 3;
      const limits = small ? SMALL_LIMITS : DEFAULT_LIMITS;
      const trace = batch % 2 === 1;
      const extensions: ReadonlySet<Extension> = new Set<Extension>(trace ? ['trace'] : []);
      const frames = Array.from({ length: count }, () => fuzzer.next());
      const ends = new Uint32Array(count);
      let at = 0;
      for (let i = 0; i < count; i++) {
        at = (at + 3) & ~3;
        at += frames[i]!.length;
        ends[i] = at;
      }
      const all = new Uint8Array(at);
      let start = 0;
      for (let i = 0; i < count; i++) {
        all.set(frames[i]!, start);
        start = (ends[i]! + 3) & ~3;
      }
      const nativeLimits = small ? { ...SMALL_LIMITS, maxFilterKeyBytes: MAX_FILTER_KEY_BYTES, maxFilterStringChars: MAX_FILTER_STRING_CHARS } : undefined;
      const verdicts = addon.queryDecodes(all, ends, trace, nativeLimits);
      start = 0;
      for (let i = 0; i < count; i++) {
        const frame = all.subarray(start, ends[i]!);
        start = (ends[i]! + 3) & ~3;
        const c = verdicts[i]!;
        const t = tsVerdict(frame, limits, extensions);
        const cls = c === 'deferred' ? 'deferred' : typeof t === 'string' ? t : 'query';
        tally[cls] = (tally[cls] ?? 0) + 1;
        if (c === 'deferred') {
          // Handed to JavaScript: only a QUERY frame whose meta is well-formed msgpack can be.
          expect(frame[5]).toBe(MessageType.QUERY);
          continue;
        }
        if (!sameValue(c, t) && mismatches++ < 5) {
          expect.soft(c, `frame ${Buffer.from(frame.subarray(0, 400)).toString('hex')} (limits ${small ? 'small' : 'default'}, trace ${trace})`).toEqual(t);
        }
      }
      done += count;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `query decoder diff: ${FRAMES} frames in ${seconds.toFixed(1)} s (seed ${SEED}), ${mismatches} mismatches\n` +
        Object.entries(tally)
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `  ${k}: ${n}`)
          .join('\n'),
    );
    expect(mismatches).toBe(0);
    // Visibly not all errors: decoded queries, every body error code, and the frames left to JavaScript.
    expect(tally.query ?? 0).toBeGreaterThan(FRAMES / 10);
    for (const cls of [
      'RAGWIRE_ERR_BAD_FRAME',
      'RAGWIRE_ERR_LIMIT',
      'RAGWIRE_ERR_INVALID_FILTER',
      'RAGWIRE_ERR_UNKNOWN_OPTION',
      'RAGWIRE_ERR_FRAME_TOO_LARGE',
      'not-mine',
    ]) {
      expect(tally[cls] ?? 0, cls).toBeGreaterThan(0);
    }
  });
});
