// docs/protocol.md §5: field-by-field checks shared by every message codec (encode and decode).
import { BadFrameError, LimitExceededError } from './errors';

const utf8 = new TextEncoder();

/** UTF-8 length of a string, computed only when the UTF-16 length leaves it in doubt. */
export function utf8Length(s: string, ceiling: number): number {
  // Every UTF-16 unit encodes to 1..3 bytes.
  if (s.length * 3 <= ceiling) return s.length;
  return utf8.encode(s).length;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} chars` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}

/** Collection names: 1-255 bytes of [A-Za-z0-9_.-], not starting with a dot or dash. */
const COLLECTION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/** How an encoder reads an outgoing message as meta (see Fields). */
export interface FieldsSource {
  /** Properties of the message that are not meta fields (`type`, typed arrays). */
  ignore?: readonly string[];
  /** Meta fields the encoder computed (such as `n`), read before the message's own. */
  extra?: Record<string, unknown>;
}

/**
 * Reads the fields of one msgpack map, or of an outgoing message (its property names are the
 * wire names). Every accessor checks type and range with an exact message; `done()` refuses any
 * field that was not read, so a typo or a field from a newer version never passes silently.
 * `absent` means missing, undefined or nil.
 */
export class Fields {
  private readonly obj: Record<string, unknown>;
  private readonly read: string[] = [];
  private readonly extra: Record<string, unknown> | undefined;

  constructor(
    value: unknown,
    private readonly what: string,
    source?: FieldsSource,
  ) {
    if (!isPlainObject(value)) throw new BadFrameError(`${what} must be a map, got ${describe(value)}`);
    this.obj = value;
    this.extra = source?.extra;
    for (const name of source?.ignore ?? []) if (Object.hasOwn(value, name)) this.read.push(name);
  }

  fail(field: string, message: string): never {
    throw new BadFrameError(`${this.what}.${field} ${message}`);
  }

  /** The raw value, counted as read; undefined when absent. */
  raw(name: string): unknown {
    if (this.extra !== undefined && Object.hasOwn(this.extra, name)) return this.extra[name];
    if (!Object.hasOwn(this.obj, name)) return undefined;
    if (!this.read.includes(name)) this.read.push(name);
    const v = this.obj[name];
    return v === null ? undefined : v;
  }

  has(name: string): boolean {
    const source = this.extra !== undefined && Object.hasOwn(this.extra, name) ? this.extra : this.obj;
    const v = Object.hasOwn(source, name) ? source[name] : undefined;
    return v !== undefined && v !== null;
  }

  str(name: string, maxBytes: number, opts?: { optional?: false }): string;
  str(name: string, maxBytes: number, opts: { optional: true }): string | undefined;
  str(name: string, maxBytes: number, opts: { optional?: boolean } = {}): string | undefined {
    const v = this.raw(name);
    if (v === undefined) {
      if (opts.optional) return undefined;
      this.fail(name, 'is required');
    }
    if (typeof v !== 'string') this.fail(name, `must be a string, got ${describe(v)}`);
    if (utf8Length(v, maxBytes) > maxBytes) this.fail(name, `must be at most ${maxBytes} bytes`);
    return v;
  }

  /**
   * An integer in [min, max]. Past `max` it is a LimitExceededError when `limitName` names the
   * configured limit that set it, otherwise a BadFrameError.
   */
  int(name: string, min: number, max: number, limitName?: string): number;
  int(name: string, min: number, max: number, limitName: string | undefined, optional: true): number | undefined;
  int(name: string, min: number, max: number, limitName?: string, optional = false): number | undefined {
    const v = this.raw(name);
    if (v === undefined) {
      if (optional) return undefined;
      this.fail(name, 'is required');
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(name, `must be an integer, got ${describe(v)}`);
    if (v > max && limitName !== undefined) {
      throw new LimitExceededError(`${this.what}.${name} is ${v}, over the limit ${limitName} = ${max}`);
    }
    if (v < min || v > max) this.fail(name, `must be in [${min}, ${max}], got ${v}`);
    return v;
  }

  /** A finite number. */
  number(name: string): number {
    const v = this.raw(name);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(name, `must be a finite number, got ${describe(v)}`);
    return v;
  }

  /** A non-negative integer up to 2^53 - 1 (counts, sequence numbers, byte sizes). */
  count(name: string): number {
    return this.int(name, 0, Number.MAX_SAFE_INTEGER);
  }

  bool(name: string): boolean;
  bool(name: string, optional: true): boolean | undefined;
  bool(name: string, optional = false): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined) {
      if (optional) return undefined;
      this.fail(name, 'is required');
    }
    if (typeof v !== 'boolean') this.fail(name, `must be a boolean, got ${describe(v)}`);
    return v;
  }

  /** One of a fixed set of strings. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.raw(name);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(name, `must be one of ${allowed.join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }

  collection(name = 'collection'): string {
    const v = this.str(name, 255);
    if (!COLLECTION_NAME.test(v)) this.fail(name, `must match ${COLLECTION_NAME.source}, got ${describe(v)}`);
    return v;
  }

  optionalCollection(name = 'collection'): string | undefined {
    if (this.has(name)) return this.collection(name);
    this.raw(name);
    return undefined;
  }

  /** An array of strings, each 1..maxBytes UTF-8 bytes; at most `maxItems` (a LimitExceededError past it). */
  stringList(name: string, maxItems: number, limitName: string, maxBytes: number, itemName: string): string[] {
    const v = this.raw(name);
    if (!Array.isArray(v)) this.fail(name, `must be an array, got ${describe(v)}`);
    if (v.length > maxItems) {
      throw new LimitExceededError(`${this.what}.${name} has ${v.length} ${itemName}s, over the limit ${limitName} = ${maxItems}`);
    }
    for (let i = 0; i < v.length; i++) {
      const s = v[i];
      if (typeof s !== 'string' || s.length === 0) this.fail(`${name}[${i}]`, `must be a non-empty string, got ${describe(s)}`);
      if (utf8Length(s, maxBytes) > maxBytes)
        throw new LimitExceededError(`${this.what}.${name}[${i}] must be at most ${maxBytes} bytes (${itemName} bytes limit)`);
    }
    return v as string[];
  }

  /** A map from names to finite numbers (index parameters). */
  numberMap(name: string): Record<string, number> | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) this.fail(name, `must be a map, got ${describe(v)}`);
    for (const [key, value] of Object.entries(v)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(`${name}.${key}`, `must be a finite number, got ${describe(value)}`);
    }
    return v as Record<string, number>;
  }

  /** Refuses any field that no accessor read. */
  done(): void {
    const keys = Object.keys(this.obj);
    if (keys.length === this.read.length) return;
    const unknown = keys.filter((k) => !this.read.includes(k));
    throw new BadFrameError(`${this.what} has unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  }
}
