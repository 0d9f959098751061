// The metadata filter index: an inverted index from (field, value) to labels,
// derived from the payloads in LMDB, that turns a Filter into the engine's
// allow-list bitset. Nested maps are addressed with dots ("author.name");
// an array field matches when any element does. A string longer than a filter may
// compare with (MAX_FILTER_STRING_CHARS) is noted as present only: `exists` sees it,
// and the index holds no copy of it (LlamaIndex's serialized nodes, whole texts).
import { MAX_FILTER_STRING_CHARS, type Condition, type Filter, type FilterValue } from '@ragwire/protocol';

type Postings = Set<number>;

interface FieldIndex {
  /** Every label that has the field. */
  present: Postings;
  /** Exact values: "s:text", "n:3", "b:true". */
  values: Map<string, Postings>;
  /** Numeric values, for ranges. */
  numbers: Map<number, Postings>;
}

const MAX_DEPTH = 8;

function valueKey(v: FilterValue): string {
  return typeof v === 'string' ? `s:${v}` : typeof v === 'number' ? `n:${v}` : `b:${v}`;
}

/** A field's indexed value; `undefined`: the field is present, its value too long to compare with. */
export type IndexedValue = FilterValue | undefined;

/** The (field, value) pairs a metadata object is indexed under. */
export function indexedFields(metadata: Record<string, unknown> | undefined): [string, IndexedValue][] {
  const out: [string, IndexedValue][] = [];
  const walk = (value: unknown, path: string, depth: number) => {
    if (value === null || value === undefined || depth > MAX_DEPTH) return;
    if (typeof value === 'string' && value.length > MAX_FILTER_STRING_CHARS) {
      out.push([path, undefined]);
    } else if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      out.push([path, value]);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, path, depth + 1);
    } else if (typeof value === 'object' && !(value instanceof Uint8Array)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(metadata, '', 0);
  return out;
}

export class FilterIndex {
  readonly #fields = new Map<string, FieldIndex>();
  readonly #byLabel = new Map<number, [string, IndexedValue][]>();

  add(label: number, metadata: Record<string, unknown> | undefined): void {
    const pairs = indexedFields(metadata);
    if (pairs.length === 0) return;
    this.#byLabel.set(label, pairs);
    for (const [field, value] of pairs) {
      let f = this.#fields.get(field);
      if (!f) this.#fields.set(field, (f = { present: new Set(), values: new Map(), numbers: new Map() }));
      f.present.add(label);
      if (value === undefined) continue;
      addTo(f.values, valueKey(value), label);
      if (typeof value === 'number') addTo(f.numbers, value, label);
    }
  }

  /** The (field, value) pairs `label` is indexed under; undefined: none. */
  fieldsOf(label: number): readonly [string, IndexedValue][] | undefined {
    return this.#byLabel.get(label);
  }

  remove(label: number): void {
    const pairs = this.#byLabel.get(label);
    if (!pairs) return;
    this.#byLabel.delete(label);
    for (const [field, value] of pairs) {
      const f = this.#fields.get(field);
      if (!f) continue;
      f.present.delete(label);
      if (value !== undefined) {
        removeFrom(f.values, valueKey(value), label);
        if (typeof value === 'number') removeFrom(f.numbers, value, label);
      }
      if (f.present.size === 0) this.#fields.delete(field);
    }
  }

  /**
   * The bitset of labels below `labelBound` that match: bit (label & 7) of byte label >> 3.
   * `live` lists every live label (the universe a must_not-only filter starts from).
   */
  evaluate(filter: Filter, labelBound: number, live: () => Iterable<number>): Uint8Array<ArrayBuffer> {
    const bytes = (labelBound >>> 3) + 1;
    const all = () => {
      const bits = new Uint8Array(bytes);
      for (const label of live()) setBit(bits, label);
      return bits;
    };
    let result: Uint8Array<ArrayBuffer> | null = null;
    for (const c of filter.must ?? []) {
      const bits = this.#condition(c, bytes, all);
      result = result ? and(result, bits) : bits;
    }
    if (filter.should && filter.should.length > 0) {
      let any = new Uint8Array(bytes);
      for (const c of filter.should) any = or(any, this.#condition(c, bytes, all));
      result = result ? and(result, any) : any;
    }
    result ??= all();
    for (const c of filter.must_not ?? []) andNot(result, this.#condition(c, bytes, all));
    return result;
  }

  #condition(c: Condition, bytes: number, all: () => Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
    const f = this.#fields.get(c.key);
    if ('exists' in c && !c.exists) {
      // documents lacking the field: every live one, less those that have it
      const bits = all();
      if (f) for (const label of f.present) clearBit(bits, label);
      return bits;
    }
    const bits = new Uint8Array(bytes);
    if (!f) return bits;
    if ('eq' in c) {
      setAll(bits, f.values.get(valueKey(c.eq)));
    } else if ('in' in c) {
      for (const v of c.in) setAll(bits, f.values.get(valueKey(v)));
    } else if ('range' in c) {
      const { gt, gte, lt, lte } = c.range;
      for (const [value, labels] of f.numbers) {
        if (gt !== undefined && !(value > gt)) continue;
        if (gte !== undefined && !(value >= gte)) continue;
        if (lt !== undefined && !(value < lt)) continue;
        if (lte !== undefined && !(value <= lte)) continue;
        setAll(bits, labels);
      }
    } else {
      setAll(bits, f.present);
    }
    return bits;
  }
}

function addTo<K>(map: Map<K, Postings>, key: K, label: number): void {
  let s = map.get(key);
  if (!s) map.set(key, (s = new Set()));
  s.add(label);
}

function removeFrom<K>(map: Map<K, Postings>, key: K, label: number): void {
  const s = map.get(key);
  if (!s) return;
  s.delete(label);
  if (s.size === 0) map.delete(key);
}

function setBit(bits: Uint8Array, label: number): void {
  const byte = label >>> 3;
  if (byte < bits.length) bits[byte]! |= 1 << (label & 7);
}

function clearBit(bits: Uint8Array, label: number): void {
  const byte = label >>> 3;
  if (byte < bits.length) bits[byte]! &= ~(1 << (label & 7));
}

function setAll(bits: Uint8Array, labels: Postings | undefined): void {
  if (labels) for (const label of labels) setBit(bits, label);
}

function and(a: Uint8Array<ArrayBuffer>, b: Uint8Array): Uint8Array<ArrayBuffer> {
  for (let i = 0; i < a.length; i++) a[i]! &= b[i]!;
  return a;
}

function or(a: Uint8Array<ArrayBuffer>, b: Uint8Array): Uint8Array<ArrayBuffer> {
  for (let i = 0; i < a.length; i++) a[i]! |= b[i]!;
  return a;
}

function andNot(a: Uint8Array, b: Uint8Array): void {
  for (let i = 0; i < a.length; i++) a[i]! &= ~b[i]!;
}
