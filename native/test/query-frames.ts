// Fuzzed frames for the QUERY decoder's differential test (query-decoder-diff.int.test.ts): valid
// QUERY frames of every shape, mutated at random (byte flips, truncations, length lies, fields
// replaced by random values, random meta maps), and frames of other types.
import { HEADER_BYTES, MessageType, type Prng, type QueryRequest, encodeFrame } from '@ragwire/protocol';
import { packValue, unpackChecked } from '../../packages/protocol/src/msgpack';
import { FILTER_WORDS, QUERY_OPTION_WORDS } from '../../packages/protocol/src/testing/fuzz-words';
import { sampleMessages } from '../../packages/protocol/src/testing/sample-messages';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function floats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin(seed * 7 + i));
  return out;
}

/** QUERY messages of every shape the protocol has. */
export function seedQueries(): QueryRequest[] {
  const samples = sampleMessages().filter((m): m is QueryRequest => m.type === 'query');
  const sparse = (n: number) => ({ indices: Uint32Array.from({ length: n }, (_, i) => i * 3), values: floats(n, n) });
  return [
    ...samples,
    { type: 'query', collection: 'a', dim: 3, k: 1, vectors: floats(6, 1), options: { withPayload: true, withVectors: true } },
    { type: 'query', collection: 'c-1.x', dim: 2, k: 7, vectors: floats(2, 2), options: { exact: true, minSeq: 12, epoch: 3 } },
    { type: 'query', collection: 'docs', dim: 2, k: 4, vectors: floats(4, 3), trace: TRACE },
    {
      type: 'query',
      collection: 'docs',
      dim: 3,
      k: 5,
      vectors: floats(3, 4),
      filter: {
        must: [
          { key: 'year', range: { gte: 2020, lt: 2025.5 } },
          { key: 'lang', in: ['en', 'de', 3, false] },
        ],
        should: [],
        must_not: [
          { key: 'draft', exists: true },
          { key: 'author.name', eq: 'Zoë' },
        ],
      },
      options: { efSearch: 64, withPayload: false },
    },
    {
      type: 'query',
      collection: 'docs',
      dim: 2,
      k: 3,
      vectors: floats(4, 5),
      text: ['first query', 'zweite Anfrage ü'],
      sparse: [sparse(2), sparse(0)],
      prefetch: 20,
      fusion: { method: 'dbsf' },
      textStats: { docs: 10, tokens: 250, df: { first: 2, query: 1 } },
      filter: { should: [{ key: 'tag', eq: true }] },
      trace: TRACE,
    },
    { type: 'query', collection: 'docs', dim: 0, k: 3, vectors: new Float32Array(0), sparse: [sparse(3), sparse(1), sparse(0)] },
  ];
}

const KEYS = ['collection', 'n', 'dim', 'k', 'filter', 'options', 'text', 'sparseCounts', 'prefetch', 'fusion', 'textStats', 'trace'];
const WORDS = [
  ...KEYS,
  ...FILTER_WORDS,
  ...QUERY_OPTION_WORDS,
  'method',
  'alpha',
  'rrf',
  'dbsf',
  'weighted',
  'docs',
  'tokens',
  'df',
  'x',
  '',
  'ünï',
  '__proto_',
  TRACE,
  'docs.v2',
  '.bad',
];
const NUMBERS = [0, 1, 2, 3, -1, 0.5, 1.5, -0, 255, 256, 4096, 4097, 10_000, 10_001, 65_536, 65_537, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300, -1e300];

/** A random msgpack-subset value: scalars, and arrays or maps down to `depth`. */
export function randomValue(prng: Prng, depth: number): unknown {
  const r = prng.nextInt(depth > 0 ? 10 : 7);
  switch (r) {
    case 0:
      return null;
    case 1:
      return prng.nextInt(2) === 0;
    case 2:
    case 3:
      return NUMBERS[prng.nextInt(NUMBERS.length)]!;
    case 4:
      return prng.nextInt(4) === 0 ? 'x'.repeat(prng.nextInt(600)) : WORDS[prng.nextInt(WORDS.length)]!;
    case 5:
      return prng.nextInt(1000) - 500;
    case 6:
      return prng.nextFloat() * 4 - 2;
    case 7:
    case 8: {
      const out: unknown[] = [];
      for (let i = prng.nextInt(5); i > 0; i--) out.push(randomValue(prng, depth - 1));
      return out;
    }
    default: {
      const out: Record<string, unknown> = {};
      for (let i = prng.nextInt(4); i > 0; i--) out[WORDS[prng.nextInt(WORDS.length)]!] = randomValue(prng, depth - 1);
      return out;
    }
  }
}

/** A frame of header, the given meta bytes, zero padding and tail. */
export function frameOf(meta: Uint8Array, tail: Uint8Array, requestId: number): Uint8Array {
  const head = (HEADER_BYTES + 4 + meta.length + 3) & ~3;
  const out = new Uint8Array(head + tail.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.length - 4, true);
  out[4] = 1;
  out[5] = MessageType.QUERY;
  view.setUint32(8, requestId, true);
  view.setUint32(HEADER_BYTES, meta.length, true);
  out.set(meta, HEADER_BYTES + 4);
  out.set(tail, head);
  return out;
}

interface Seed {
  frame: Uint8Array;
  meta: Record<string, unknown>;
  tail: Uint8Array;
}

/** Builds fuzzed frames; `next()` returns one (a fresh buffer each time) and names its mutation. */
export class QueryFrameFuzzer {
  private readonly seeds: Seed[];
  private readonly others: Uint8Array[];

  constructor(private readonly prng: Prng) {
    this.seeds = seedQueries().map((q, i) => {
      const frame = encodeFrame(q, i + 1);
      const metaLength = new DataView(frame.buffer, frame.byteOffset).getUint32(HEADER_BYTES, true);
      const metaBytes = frame.subarray(HEADER_BYTES + 4, HEADER_BYTES + 4 + metaLength);
      // The meta as a plain map (decoded back through the codec's own msgpack reader).
      const meta = JSON.parse(JSON.stringify(unpackMeta(metaBytes))) as Record<string, unknown>;
      return { frame, meta, tail: frame.slice((HEADER_BYTES + 4 + metaLength + 3) & ~3) };
    });
    this.others = sampleMessages()
      .filter((m) => m.type !== 'query')
      .map((m, i) => encodeFrame(m, m.type === 'error' ? 0 : i + 1));
  }

  next(): Uint8Array {
    const p = this.prng;
    const seed = this.seeds[p.nextInt(this.seeds.length)]!;
    const frame = new Uint8Array(seed.frame);
    const view = new DataView(frame.buffer);
    switch (p.nextInt(12)) {
      case 0:
      case 1:
        return frame;
      case 2: {
        // Byte flips in the meta section (where the decisions are).
        const metaLength = view.getUint32(HEADER_BYTES, true);
        for (let j = 1 + p.nextInt(3); j > 0; j--) frame[HEADER_BYTES + 4 + p.nextInt(Math.max(1, metaLength))]! ^= 1 << p.nextInt(8);
        return frame;
      }
      case 3:
        for (let j = 1 + p.nextInt(4); j > 0; j--) frame[p.nextInt(frame.length)]! ^= 1 << p.nextInt(8);
        return frame;
      case 4: {
        // Truncated at a multiple of 4, the length prefix told.
        const cut = frame.slice(0, Math.max(HEADER_BYTES, p.nextInt(frame.length + 1) & ~3));
        new DataView(cut.buffer).setUint32(0, cut.length - 4, true);
        return cut;
      }
      case 5:
        return frame.slice(0, p.nextInt(frame.length + 1));
      case 6: {
        const metaLength = view.getUint32(HEADER_BYTES, true);
        view.setUint32(HEADER_BYTES, p.nextInt(8) === 0 ? p.nextU32() : Math.max(0, metaLength + p.nextInt(9) - 4), true);
        return frame;
      }
      case 7: {
        // One field replaced (or added) with a random value, or removed.
        const meta = { ...seed.meta };
        const key = p.nextInt(6) === 0 ? WORDS[p.nextInt(WORDS.length)]! : KEYS[p.nextInt(KEYS.length)]!;
        if (p.nextInt(5) === 0) delete meta[key];
        else meta[key] = randomValue(p, 3);
        return frameOf(packValue(meta), seed.tail, 7);
      }
      case 8: {
        // A nested value replaced: inside the filter, options, fusion, textStats or text.
        const meta = JSON.parse(JSON.stringify(seed.meta)) as Record<string, unknown>;
        mutateDeep(p, meta, 4);
        return frameOf(packValue(meta), seed.tail, 8);
      }
      case 9: {
        // A random meta map over the known keys, with a tail of a plausible length.
        const meta: Record<string, unknown> = {};
        for (const key of KEYS) if (p.nextInt(2) === 0) meta[key] = p.nextInt(2) === 0 ? seed.meta[key] : randomValue(p, 3);
        const tail = p.nextInt(2) === 0 ? seed.tail : new Uint8Array(4 * p.nextInt(16));
        return frameOf(packValue(meta), tail, 9);
      }
      case 10: {
        // The tail one section longer or shorter.
        const tail = p.nextInt(2) === 0 ? new Uint8Array(seed.tail.length + 4) : seed.tail.subarray(0, Math.max(0, seed.tail.length - 4));
        if (tail.length > seed.tail.length) tail.set(seed.tail);
        return frameOf(packValue(seed.meta), tail, 10);
      }
      default:
        return new Uint8Array(this.others[p.nextInt(this.others.length)]!);
    }
  }
}

function mutateDeep(p: Prng, node: Record<string, unknown> | unknown[], depth: number): void {
  const keys = Object.keys(node);
  if (keys.length === 0 || depth === 0) return;
  const key = keys[p.nextInt(keys.length)]!;
  const child = (node as Record<string, unknown>)[key];
  if (child !== null && typeof child === 'object' && p.nextInt(3) !== 0) {
    mutateDeep(p, child as Record<string, unknown>, depth - 1);
  } else if (Array.isArray(node)) {
    node[Number(key)] = randomValue(p, 2);
  } else if (p.nextInt(4) === 0) {
    node[WORDS[p.nextInt(WORDS.length)]!] = randomValue(p, 2);
  } else {
    node[key] = randomValue(p, 2);
  }
}

function unpackMeta(bytes: Uint8Array): unknown {
  return unpackChecked(bytes, 0, bytes.length, { nodes: Number.MAX_SAFE_INTEGER }, 64, 'meta');
}
