// docs/protocol.md §3.1: the msgpack subset of structured sections, checked before it is decoded.
import { Packr, Unpackr } from 'msgpackr';
import { BadFrameError, LimitExceededError } from './errors';

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Encodes a structured section. Callers pass plain data (the §3.1 subset); `skimMsgpack` enforces it. */
export function packValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Remaining msgpack values a frame may still decode (limits.maxStructuredNodes). */
export interface NodeBudget {
  nodes: number;
}

/**
 * Checks that bytes[start, end) hold exactly one value of the §3.1 subset (nil, bool, int, finite
 * float, str, array, map with string keys), no deeper than `maxDepth`, and charges its values to
 * `budget`. Only then is it decoded, so msgpackr never sees an extension type, a count larger than
 * the bytes that could back it, or a nesting that could exhaust the stack.
 */
export function unpackChecked(bytes: Uint8Array, start: number, end: number, budget: NodeBudget, maxDepth: number, what: string): unknown {
  if (end <= start) throw new BadFrameError(`${what}: empty msgpack section`);
  const skim = new Skimmer(bytes, end, budget, maxDepth, what);
  const stop = skim.value(start, 1);
  if (stop !== end) throw new BadFrameError(`${what}: ${end - stop} bytes after the msgpack value`);
  try {
    return unpackr.unpack(bytes, { start, end });
  } catch (cause) {
    // Unreachable for skimmed input; kept so that no msgpackr error can escape untyped.
    throw new BadFrameError(`${what}: ${(cause as Error).message}`, { cause });
  }
}

/** Validates without decoding (used on encode for caller-supplied payloads). */
export function skimMsgpack(bytes: Uint8Array, budget: NodeBudget, maxDepth: number, what: string): void {
  if (bytes.length === 0) throw new BadFrameError(`${what}: empty msgpack section`);
  const stop = new Skimmer(bytes, bytes.length, budget, maxDepth, what).value(0, 1);
  if (stop !== bytes.length) throw new BadFrameError(`${what}: ${bytes.length - stop} bytes after the msgpack value`);
}

// "__proto__" as UTF-8: a map key msgpackr would rename, so it is refused instead.
const PROTO_KEY = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f];

class Skimmer {
  constructor(
    private readonly b: Uint8Array,
    private readonly end: number,
    private readonly budget: NodeBudget,
    private readonly maxDepth: number,
    private readonly what: string,
  ) {}

  private bad(message: string, at: number): never {
    throw new BadFrameError(`${this.what}: ${message} at byte ${at}`);
  }

  private need(pos: number, n: number): void {
    if (pos + n > this.end) this.bad('truncated msgpack value', pos);
  }

  private uint(pos: number, n: 1 | 2 | 4): number {
    this.need(pos, n);
    const b = this.b;
    if (n === 1) return b[pos]!;
    if (n === 2) return (b[pos]! << 8) | b[pos + 1]!;
    return ((b[pos]! << 24) >>> 0) + ((b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!);
  }

  private charge(count: number, at: number): void {
    this.budget.nodes -= count;
    if (this.budget.nodes < 0) {
      throw new LimitExceededError(`${this.what}: more msgpack values than maxStructuredNodes allows (at byte ${at})`);
    }
  }

  /** Skims the value at `pos`; returns the position after it. */
  value(pos: number, depth: number): number {
    this.need(pos, 1);
    this.charge(1, pos);
    const t = this.b[pos]!;
    if (t <= 0x7f || t >= 0xe0) return pos + 1; // fixint
    if (t <= 0x8f) return this.map(pos + 1, t & 0x0f, depth, pos);
    if (t <= 0x9f) return this.array(pos + 1, t & 0x0f, depth, pos);
    if (t <= 0xbf) return this.str(pos + 1, t & 0x1f);
    switch (t) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        return pos + 1; // nil, false, true
      case 0xca:
        return this.float(pos, 4);
      case 0xcb:
        return this.float(pos, 8);
      case 0xcc:
      case 0xd0:
        this.need(pos + 1, 1);
        return pos + 2;
      case 0xcd:
      case 0xd1:
        this.need(pos + 1, 2);
        return pos + 3;
      case 0xce:
      case 0xd2:
        this.need(pos + 1, 4);
        return pos + 5;
      case 0xcf:
      case 0xd3:
        this.need(pos + 1, 8);
        return pos + 9;
      case 0xd9:
        return this.str(pos + 2, this.uint(pos + 1, 1));
      case 0xda:
        return this.str(pos + 3, this.uint(pos + 1, 2));
      case 0xdb:
        return this.str(pos + 5, this.uint(pos + 1, 4));
      case 0xdc:
        return this.array(pos + 3, this.uint(pos + 1, 2), depth, pos);
      case 0xdd:
        return this.array(pos + 5, this.uint(pos + 1, 4), depth, pos);
      case 0xde:
        return this.map(pos + 3, this.uint(pos + 1, 2), depth, pos);
      case 0xdf:
        return this.map(pos + 5, this.uint(pos + 1, 4), depth, pos);
      default:
        return this.bad(`msgpack type 0x${t.toString(16)} (bin, ext or reserved) is not allowed`, pos);
    }
  }

  private float(pos: number, n: 4 | 8): number {
    this.need(pos + 1, n);
    // Exponent all ones means NaN or +-Infinity: refused, so decoded numbers are always finite.
    const hi = (this.b[pos + 1]! << 8) | this.b[pos + 2]!;
    const exponentOnes = n === 4 ? (hi & 0x7f80) === 0x7f80 : (hi & 0x7ff0) === 0x7ff0;
    if (exponentOnes) this.bad('non-finite float', pos);
    return pos + 1 + n;
  }

  private str(pos: number, length: number): number {
    this.need(pos, length);
    return pos + length;
  }

  private container(count: number, perItem: number, depth: number, at: number): void {
    if (depth >= this.maxDepth) this.bad(`msgpack nesting deeper than ${this.maxDepth}`, at);
    // Every item takes at least one byte: a count the remaining bytes cannot back is a lie.
    if (count * perItem > this.end - at) this.bad(`msgpack count ${count} exceeds the bytes left`, at);
  }

  private array(pos: number, count: number, depth: number, at: number): number {
    this.container(count, 1, depth, at);
    for (let i = 0; i < count; i++) pos = this.value(pos, depth + 1);
    return pos;
  }

  private map(pos: number, count: number, depth: number, at: number): number {
    this.container(count, 2, depth, at);
    for (let i = 0; i < count; i++) {
      pos = this.key(pos);
      pos = this.value(pos, depth + 1);
    }
    return pos;
  }

  private key(pos: number): number {
    this.need(pos, 1);
    this.charge(1, pos);
    const t = this.b[pos]!;
    let start: number;
    let length: number;
    if (t >= 0xa0 && t <= 0xbf) [start, length] = [pos + 1, t & 0x1f];
    else if (t === 0xd9) [start, length] = [pos + 2, this.uint(pos + 1, 1)];
    else if (t === 0xda) [start, length] = [pos + 3, this.uint(pos + 1, 2)];
    else if (t === 0xdb) [start, length] = [pos + 5, this.uint(pos + 1, 4)];
    else return this.bad('map keys must be strings', pos);
    this.need(start, length);
    if (length === PROTO_KEY.length && PROTO_KEY.every((c, i) => this.b[start + i] === c)) {
      this.bad('map key "__proto__" is not allowed', pos);
    }
    return start + length;
  }
}
