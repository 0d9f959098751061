// Feeds random and mutated frames through FrameDecoder and checks that each one becomes a
// message or a typed error, that nothing else escapes, and that buffering stays within limits.
import { Unpackr } from 'msgpackr';
import { MESSAGE_NAMES, encodeFrame } from '../codec';
import { FrameDecoder, type DecodeEvent } from '../decoder';
import { isRagwireError } from '../errors';
import { MessageType, align4, readHeader } from '../header';
import { resolveLimits, type ProtocolLimits } from '../limits';
import type { Message } from '../messages';
import { packValue } from '../msgpack';
import { Prng } from '../prng';
import { FILTER_WORDS, QUERY_OPTION_WORDS } from './fuzz-words';
import { sampleMessages } from './sample-messages';

/** Codes a decoder may answer a bad frame with (docs/protocol.md §9.1). INTERNAL would be a bug. */
export const DECODE_ERROR_CODES = new Set([
  'RAGWIRE_ERR_BAD_FRAME',
  'RAGWIRE_ERR_FRAME_TOO_LARGE',
  'RAGWIRE_ERR_UNSUPPORTED_VERSION',
  'RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE',
  'RAGWIRE_ERR_LIMIT',
  'RAGWIRE_ERR_INVALID_FILTER',
  'RAGWIRE_ERR_UNKNOWN_OPTION',
]);

export interface FuzzReport {
  frames: number;
  decoded: number;
  refused: number;
  fatal: number;
  byCode: Record<string, number>;
  /** Largest bufferedBytes seen after any push, and the largest copy the decoder made. */
  maxBuffered: number;
  maxCopy: number;
  failures: string[];
}

/** Small limits so that every limit is reachable with frames of a few hundred bytes. */
export const FUZZ_LIMITS: ProtocolLimits = resolveLimits({
  maxFrameBytes: 64 * 1024,
  maxK: 64,
  maxQueryBatch: 16,
  maxWriteBatch: 64,
  maxDim: 256,
  maxPayloadBytes: 2048,
  maxIdBytes: 32,
  maxFilterConditions: 16,
  maxFilterValues: 16,
  maxStructuredNodes: 4096,
  maxStructuredDepth: 12,
  maxEfSearch: 512,
  maxQueryTextBytes: 256,
  maxSparseEntries: 32,
});

interface Seed {
  type: number;
  flags: number;
  meta: Uint8Array;
  tail: Uint8Array;
  frame: Uint8Array;
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const FIELD_NAMES = [
  'collection',
  'dim',
  'k',
  'n',
  'ids',
  'withPayloads',
  'filter',
  'options',
  'versions',
  'token',
  'client',
  'version',
  'server',
  'limits',
  'metric',
  'kind',
  'storage',
  'params',
  'ifNotExists',
  'ifExists',
  'info',
  'created',
  'dropped',
  'collections',
  'count',
  'name',
  'upserted',
  'deleted',
  'seq',
  'stats',
  'snapshots',
  'bytes',
  'code',
  'message',
  ...FILTER_WORDS,
  ...QUERY_OPTION_WORDS,
  'text',
  'metadata',
  '__proto__',
  'constructor',
];
const EVIL_NUMBERS = [
  0,
  -1,
  1,
  2,
  3,
  4,
  7,
  63,
  64,
  65,
  255,
  256,
  257,
  4096,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  -(2 ** 53),
  0.5,
  -0.0,
  1e308,
  5e-324,
];
const TYPE_CODES = Object.values(MessageType) as number[];

function decompose(frame: Uint8Array): Seed {
  const h = readHeader(frame, 0);
  const metaLength = new DataView(frame.buffer, frame.byteOffset).getUint32(12, true);
  return {
    type: h.type,
    flags: h.flags,
    meta: frame.slice(16, 16 + metaLength),
    tail: frame.slice(align4(16 + metaLength)),
    frame,
  };
}

/** A frame with correct length and padding around arbitrary meta and tail bytes. */
function buildFrame(type: number, flags: number, requestId: number, meta: Uint8Array, tail: Uint8Array): Uint8Array {
  const head = align4(16 + meta.length);
  const out = new Uint8Array(head + align4(tail.length));
  const v = new DataView(out.buffer);
  v.setUint32(0, out.length - 4, true);
  out[4] = 1;
  out[5] = type;
  v.setUint16(6, flags, true);
  v.setUint32(8, requestId, true);
  v.setUint32(12, meta.length, true);
  out.set(meta, 16);
  out.set(tail, head);
  return out;
}

export function runFrameFuzzer(options: { frames: number; seed: number; maxFailures?: number }): FuzzReport {
  const prng = new Prng(options.seed);
  const rand = () => prng.nextU32();
  const below = (n: number) => rand() % n;
  const chance = (p: number) => rand() < p * 0x1_0000_0000;
  const pick = <T>(list: readonly T[]): T => list[below(list.length)]!;
  const report: FuzzReport = { frames: 0, decoded: 0, refused: 0, fatal: 0, byCode: {}, maxBuffered: 0, maxCopy: 0, failures: [] };
  const maxFailures = options.maxFailures ?? 5;
  const names = new Set<string>(MESSAGE_NAMES);

  const seeds = sampleMessages().map((m, i) => decompose(encodeFrame(m, m.type === 'error' ? 0 : i + 1)));
  for (let i = 0; i < 64; i++) seeds.push(decompose(encodeFrame(randomValidMessage(below), 1 + i)));

  function randomString(): string {
    if (chance(0.3)) return pick(FIELD_NAMES);
    if (chance(0.05)) return 'x'.repeat(below(400)); // past maxIdBytes and the short-string caps
    let s = '';
    for (let i = below(12); i > 0; i--) s += String.fromCharCode(chance(0.9) ? 97 + below(26) : below(0x3000));
    return s;
  }

  function randomValue(depth: number): unknown {
    switch (below(depth > 3 ? 5 : 8)) {
      case 0:
        return null;
      case 1:
        return chance(0.5);
      case 2:
        return pick(EVIL_NUMBERS);
      case 3:
        return (rand() / 1e3) * (chance(0.5) ? 1 : -1);
      case 4:
        return randomString();
      case 5:
        return Array.from({ length: chance(0.95) ? below(6) : below(64) }, () => randomValue(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = below(6); i > 0; i--) o[randomString()] = randomValue(depth + 1);
        return o;
      }
    }
  }

  /** Replaces, deletes or adds something at a random depth of a decoded meta value. */
  function mutateValue(v: unknown, depth: number): unknown {
    if (Array.isArray(v) && v.length > 0 && chance(0.7)) {
      const i = below(v.length);
      if (chance(0.15)) return chance(0.5) ? v.slice(0, i) : [...v, ...Array.from({ length: below(100) }, () => v[i])];
      v[i] = mutateValue(v[i], depth + 1);
      return v;
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && chance(0.8)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      const op = below(10);
      if (op === 0 && keys.length > 0) delete o[pick(keys)];
      else if (op === 1) o[randomString()] = randomValue(depth);
      else if (keys.length > 0) {
        const key = pick(keys);
        o[key] = mutateValue(o[key], depth + 1);
      }
      return o;
    }
    return chance(0.5) ? pick(EVIL_NUMBERS) : randomValue(depth);
  }

  function mutate(seed: Seed): Uint8Array {
    const requestId = chance(0.05) ? 0 : 1 + below(1000);
    switch (below(12)) {
      case 0:
      case 1: {
        // bit flips
        const f = seed.frame.slice();
        for (let i = 1 + below(8); i > 0; i--) f[below(f.length)]! ^= 1 << below(8);
        return f;
      }
      case 2: {
        // byte sets, biased to boundary values
        const f = seed.frame.slice();
        for (let i = 1 + below(4); i > 0; i--) f[below(f.length)] = pick([0, 0xff, 0x7f, 0x80, 0xc1, 0xdd, 0xdf, 0xdb, below(256)]);
        return f;
      }
      case 3: {
        // length lies
        const f = seed.frame.slice();
        const v = new DataView(f.buffer);
        const real = f.length - 4;
        v.setUint32(0, pick([0, 1, 7, 8, 9, 12, real - 4, real - 1, real + 1, real + 4, real + 4096, 2 ** 31, 2 ** 32 - 1, rand()]) >>> 0, true);
        return f;
      }
      case 4: {
        // header fields
        const f = seed.frame.slice();
        const v = new DataView(f.buffer);
        const field = below(4);
        if (field === 0) f[4] = below(4);
        else if (field === 1) f[5] = chance(0.7) ? pick(TYPE_CODES) : below(256);
        else if (field === 2) v.setUint16(6, chance(0.5) ? seed.flags ^ 1 : below(65536), true);
        else v.setUint32(8, rand(), true);
        return f;
      }
      case 5:
      case 6:
      case 7: {
        // structured mutation of the meta, tail kept
        const meta = mutateValue(unpackr.unpack(seed.meta), 0);
        return buildFrame(seed.type, seed.flags, requestId, packValue(meta), seed.tail);
      }
      case 8: {
        // tail grown or shrunk
        const cut = Math.max(0, seed.tail.length + pick([-8, -4, -1, 1, 4, 8, 64]));
        const tail = new Uint8Array(cut);
        tail.set(seed.tail.subarray(0, cut));
        return buildFrame(seed.type, seed.flags, requestId, seed.meta, tail);
      }
      case 9: {
        // random msgpack meta under a valid header of a random type
        const type = pick(TYPE_CODES);
        const flags = type === MessageType.QUERY ? 0 : type === MessageType.RESULT || type === MessageType.ERROR ? 1 : below(2);
        const meta = chance(0.8) ? packValue(randomValue(0)) : new Uint8Array(Array.from({ length: below(40) }, () => below(256)));
        const tail = new Uint8Array(4 * below(32)).map(() => below(256));
        return buildFrame(type, flags, requestId, meta, tail);
      }
      case 10: {
        // huge counts written straight into msgpack headers
        const meta = seed.meta.slice();
        if (meta.length > 6) {
          const at = below(meta.length - 5);
          meta[at] = pick([0xdc, 0xdd, 0xde, 0xdf, 0xdb, 0xda]);
          meta.set([0xff, 0xff, below(256), below(256)], at + 1);
        }
        return buildFrame(seed.type, seed.flags, requestId, meta, seed.tail);
      }
      default: {
        // truncation
        return seed.frame.slice(0, below(seed.frame.length));
      }
    }
  }

  function check(events: DecodeEvent[], d: FrameDecoder, context: () => string): void {
    for (const e of events) {
      if (e.ok) {
        report.decoded++;
        if (!names.has(e.message.type)) fail(`decoded an unknown message type ${e.message.type}`, context);
        checkMessage(e.message, d.limits, context);
      } else {
        report.refused++;
        if (e.fatal) report.fatal++;
        const code = isRagwireError(e.error) ? e.error.code : `untyped ${String(e.error)}`;
        report.byCode[code] = (report.byCode[code] ?? 0) + 1;
        if (!DECODE_ERROR_CODES.has(code)) fail(`refused with ${code}: ${e.error.message}`, context);
      }
    }
    if (d.bufferedBytes > report.maxBuffered) report.maxBuffered = d.bufferedBytes;
    if (d.stats.largestCopyBytes > report.maxCopy) report.maxCopy = d.stats.largestCopyBytes;
    if (d.bufferedBytes >= d.limits.maxFrameBytes) fail(`buffered ${d.bufferedBytes} bytes`, context);
    if (d.stats.largestCopyBytes > d.limits.maxFrameBytes) fail(`copied ${d.stats.largestCopyBytes} bytes`, context);
  }

  function checkMessage(m: Message, limits: ProtocolLimits, context: () => string): void {
    const aligned = (a: { byteOffset: number }) => a.byteOffset % 4 === 0;
    if (m.type === 'query' && ((m.dim === 0 ? m.vectors.length !== 0 : m.vectors.length % m.dim !== 0) || !aligned(m.vectors)))
      fail('query vectors inconsistent', context);
    if (m.type === 'upsert' && (m.vectors.length !== m.ids.length * m.dim || !aligned(m.vectors))) fail('upsert vectors inconsistent', context);
    if (m.type === 'result' && (m.ids.length !== m.scores.length || !aligned(m.scores) || !aligned(m.counts))) fail('result inconsistent', context);
    // Whatever decodes must encode again, to the same message.
    try {
      const again = new FrameDecoder(limits).push(encodeFrame(m, m.type === 'error' ? 0 : 1, limits));
      if (again.length !== 1 || !again[0]!.ok) fail(`re-encoded ${m.type} does not decode`, context);
    } catch (error) {
      fail(`re-encoding a decoded ${m.type} threw ${String(error)}`, context);
    }
  }

  function fail(what: string, context: () => string): void {
    if (report.failures.length < maxFailures) report.failures.push(`${what}\n  ${context()}`);
  }

  function guarded(d: FrameDecoder, run: () => DecodeEvent[], context: () => string): void {
    try {
      check(run(), d, context);
    } catch (error) {
      fail(`decoder threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, context);
    }
  }

  const hex = (b: Uint8Array) => Buffer.from(b.subarray(0, 256)).toString('hex');
  let stream = new FrameDecoder(FUZZ_LIMITS);
  while (report.frames < options.frames) {
    const seed = pick(seeds);
    const frame = chance(0.03) ? seed.frame : mutate(seed);
    report.frames++;
    const context = () => `seed ${options.seed}, frame ${report.frames}: ${hex(frame)}`;
    if (chance(0.5)) {
      // Alone through a fresh decoder, whole or in up to three chunks, then end of stream.
      const d = new FrameDecoder(chance(0.9) ? FUZZ_LIMITS : undefined);
      const cuts = [0, below(frame.length + 1), below(frame.length + 1), frame.length].sort((a, b) => a - b);
      for (let i = 0; i < 3; i++) guarded(d, () => d.push(frame.subarray(cuts[i], cuts[i + 1])), context);
      guarded(d, () => d.finish(), context);
    } else {
      // Into a long-lived stream among other frames, split anywhere; a fatal error starts a new stream.
      const cut = below(frame.length + 1);
      guarded(stream, () => stream.push(frame.subarray(0, cut)), context);
      guarded(stream, () => stream.push(frame.subarray(cut)), context);
      if (stream.failed || chance(0.01)) {
        guarded(stream, () => stream.finish(), context);
        stream = new FrameDecoder(FUZZ_LIMITS);
      }
    }
  }
  return report;
}

/** A valid message of random shape within FUZZ_LIMITS, to widen the seed corpus. */
function randomValidMessage(below: (n: number) => number): Message {
  const dim = 1 + below(16);
  const n = 1 + below(4);
  const vectors = new Float32Array(n * dim).map(() => below(1000) / 999);
  const ids = Array.from({ length: n }, (_, i) => `id-${below(1e6)}-${i}`);
  switch (below(3)) {
    case 0:
      return {
        type: 'query',
        collection: 'c',
        dim,
        k: 1 + below(64),
        vectors,
        filter: { must: [{ key: 'a', in: [1, 'b'] }] },
        options: { efSearch: 1 + below(512) },
      };
    case 1:
      return { type: 'upsert', collection: 'c', dim, ids, vectors, payloads: ids.map((id) => (below(2) ? { text: id, metadata: { n: below(100) } } : null)) };
    default: {
      const counts = Uint32Array.from({ length: n }, () => below(4));
      const total = counts.reduce((a, b) => a + b, 0);
      return {
        type: 'result',
        k: 3,
        counts,
        ids: Array.from({ length: total }, (_, i) => `r${i}`),
        scores: new Float32Array(total),
        payloads: Array.from({ length: total }, () => ({ text: 'p' })),
      };
    }
  }
}
