// The declarative filter a function filter (`(doc) => boolean`) amounts to, when it has one: its
// source is read by a small recogniser of the common shapes (never evaluated), and the result is
// checked against the verdicts the function gave on the candidates it saw.
//
// Recognised, under `&&` (every part) or `||` (any part), parenthesised or not, in an arrow or a
// `function` returning it, with the parameter named anything or destructured as `({ metadata })`:
//   doc.metadata.KEY === / !== LITERAL        (either side; KEY may be nested: a.b, a['b'], a?.b)
//   doc.metadata.KEY > / >= / < / <= NUMBER
//   [LITERAL, ...].includes(doc.metadata.KEY), and its negation with `!`
// Anything else (a variable from the closure, a method call, pageContent, `==`) has none.
import type { Document } from '@langchain/core/documents';
import { validateFilter, type Condition, type Filter, type FilterValue, type RangeBounds } from '@ragwire/protocol';

/** One candidate the function saw, and its verdict. */
export interface FilterVerdict {
  metadata: Record<string, unknown>;
  passed: boolean;
}

type Token = { kind: 'name' | 'punct'; text: string } | { kind: 'literal'; value: FilterValue };

const PUNCTUATORS = ['===', '!==', '=>', '>=', '<=', '&&', '||', '?.', '>', '<', '(', ')', '[', ']', '{', '}', '.', ',', ';', '!', ':'];

function tokenize(source: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(source.slice(i));
    if (word) {
      const w = word[0];
      if (w === 'true' || w === 'false') out.push({ kind: 'literal', value: w === 'true' });
      else out.push({ kind: 'name', text: w });
      i += w.length;
      continue;
    }
    const number = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(source.slice(i));
    if (number && (c !== '-' || !endsOperand(out))) {
      const value = Number(number[0]);
      if (!Number.isFinite(value)) return undefined;
      out.push({ kind: 'literal', value });
      i += number[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < source.length && source[j] !== c; j++) {
        if (source[j] === '\\') {
          const e = source[++j];
          if (e !== '\\' && e !== "'" && e !== '"') return undefined;
          text += e;
        } else if (source[j] === '\n') return undefined;
        else text += source[j];
      }
      if (j >= source.length) return undefined;
      out.push({ kind: 'literal', value: text });
      i = j + 1;
      continue;
    }
    const p = PUNCTUATORS.find((x) => source.startsWith(x, i));
    if (p === undefined) return undefined;
    out.push({ kind: 'punct', text: p });
    i += p.length;
  }
  return out;
}

function endsOperand(tokens: Token[]): boolean {
  const t = tokens[tokens.length - 1];
  return t !== undefined && (t.kind !== 'punct' || t.text === ')' || t.text === ']');
}

interface Atom {
  clause: 'must' | 'must_not';
  condition: Condition;
}

type Operator = '&&' | '||';

/** Atoms under one operator (undefined: a single atom). */
interface Group {
  op: Operator | undefined;
  atoms: Atom[];
}

const FLIP: Record<string, string> = { '>': '<', '>=': '<=', '<': '>', '<=': '>=', '===': '===', '!==': '!==' };
const BOUND: Record<string, keyof RangeBounds> = { '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' };

/** A recursive-descent reader of the shapes above; every method returns undefined on anything else. */
class Recogniser {
  private at = 0;
  /** The parameter's name, or `metadata` destructured. */
  private param = '';
  private destructured = false;

  constructor(private readonly tokens: Token[]) {}

  read(): Filter | undefined {
    if (!this.header()) return undefined;
    let parts: Group | undefined;
    if (this.punct('{')) {
      if (!this.name('return')) return undefined;
      parts = this.expression();
      this.punct(';');
      if (!this.punct('}')) return undefined;
    } else parts = this.expression();
    if (parts === undefined || this.at !== this.tokens.length) return undefined;
    const { op, atoms } = parts;
    if (op === '||') {
      if (atoms.some((a) => a.clause !== 'must')) return undefined;
      return { should: atoms.map((a) => a.condition) };
    }
    const must = atoms.filter((a) => a.clause === 'must').map((a) => a.condition);
    const mustNot = atoms.filter((a) => a.clause === 'must_not').map((a) => a.condition);
    return { ...(must.length ? { must } : {}), ...(mustNot.length ? { must_not: mustNot } : {}) };
  }

  private header(): boolean {
    if (this.name('function')) {
      if (this.peek()?.kind === 'name') this.at++;
      return this.params() && this.peekPunct('{');
    }
    const t = this.peek();
    if (t?.kind === 'name') {
      this.param = t.text;
      this.at++;
      return this.punct('=>');
    }
    return this.params() && this.punct('=>');
  }

  private params(): boolean {
    if (!this.punct('(')) return false;
    if (this.punct('{')) {
      if (!this.name('metadata')) return false;
      this.punct(',');
      if (!this.punct('}')) return false;
      this.destructured = true;
    } else {
      const t = this.peek();
      if (t?.kind !== 'name') return false;
      this.param = t.text;
      this.at++;
    }
    this.punct(',');
    return this.punct(')');
  }

  /** Atoms joined by one operator throughout; a parenthesised group joins them with the same operator. */
  private expression(): Group | undefined {
    const groups: Group[] = [];
    let op: Operator | undefined;
    for (;;) {
      const g = this.atom();
      if (g === undefined) return undefined;
      groups.push(g);
      const next = this.punct('&&') ? '&&' : this.punct('||') ? '||' : undefined;
      if (next === undefined) break;
      if (op !== undefined && op !== next) return undefined;
      op = next;
    }
    const joined = op ?? groups[0]!.op;
    if (groups.some((g) => g.atoms.length > 1 && g.op !== joined)) return undefined;
    return { op: joined, atoms: groups.flatMap((g) => g.atoms) };
  }

  private atom(): Group | undefined {
    if (this.punct('(')) {
      const inner = this.expression();
      return inner !== undefined && this.punct(')') ? inner : undefined;
    }
    if (this.punct('!')) {
      const inc = this.includes();
      return inc ? { op: undefined, atoms: [{ clause: 'must_not', condition: inc }] } : undefined;
    }
    if (this.peekPunct('[')) {
      const inc = this.includes();
      return inc ? { op: undefined, atoms: [{ clause: 'must', condition: inc }] } : undefined;
    }
    const c = this.comparison();
    return c ? { op: undefined, atoms: [c] } : undefined;
  }

  private includes(): Condition | undefined {
    if (!this.punct('[')) return undefined;
    const values: FilterValue[] = [];
    while (!this.punct(']')) {
      const v = this.literal();
      if (v === undefined) return undefined;
      values.push(v);
      if (!this.punct(',') && !this.peekPunct(']')) return undefined;
    }
    if (values.length === 0 || !this.punct('.') || !this.name('includes') || !this.punct('(')) return undefined;
    const key = this.path();
    if (key === undefined || !this.punct(')')) return undefined;
    return { key, in: values };
  }

  private comparison(): Atom | undefined {
    let key = this.path();
    let op: string | undefined;
    let value: FilterValue | undefined;
    if (key !== undefined) {
      op = this.operator();
      value = this.literal();
    } else {
      value = this.literal();
      const o = this.operator();
      op = o && FLIP[o];
      key = this.path();
    }
    if (key === undefined || op === undefined || value === undefined) return undefined;
    if (op === '===') return { clause: 'must', condition: { key, eq: value } };
    if (op === '!==') return { clause: 'must_not', condition: { key, eq: value } };
    if (typeof value !== 'number') return undefined;
    return { clause: 'must', condition: { key, range: { [BOUND[op]!]: value } } };
  }

  /** `param.metadata.a.b` (or `metadata.a.b` when destructured) as the key `a.b`. */
  private path(): string | undefined {
    const start = this.at;
    const fail = () => ((this.at = start), undefined);
    if (this.destructured) {
      if (!this.name('metadata')) return fail();
    } else if (!this.name(this.param) || !this.member() || !this.name('metadata')) return fail();
    const parts: string[] = [];
    for (;;) {
      const optional = this.punct('?.');
      if (this.punct('[')) {
        const t = this.peek();
        if (t?.kind !== 'literal' || typeof t.value !== 'string' || t.value === '' || t.value.includes('.')) return fail();
        this.at++;
        if (!this.punct(']')) return fail();
        parts.push(t.value);
        continue;
      }
      if (!optional && !this.punct('.')) break;
      const t = this.peek();
      if (t?.kind !== 'name') return fail();
      this.at++;
      parts.push(t.text);
    }
    return parts.length > 0 ? parts.join('.') : fail();
  }

  private member(): boolean {
    return this.punct('.') || this.punct('?.');
  }

  private operator(): string | undefined {
    const t = this.peek();
    if (t?.kind === 'punct' && t.text in FLIP) {
      this.at++;
      return t.text;
    }
    return undefined;
  }

  private literal(): FilterValue | undefined {
    const t = this.peek();
    if (t?.kind !== 'literal') return undefined;
    this.at++;
    return t.value;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private peekPunct(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === text;
  }

  private punct(text: string): boolean {
    if (!this.peekPunct(text)) return false;
    this.at++;
    return true;
  }

  private name(text: string): boolean {
    const t = this.peek();
    if (t?.kind !== 'name' || t.text !== text) return false;
    this.at++;
    return true;
  }
}

/** The filter a predicate's source spells, or undefined when it is not one of the shapes above. */
function recogniseFunctionFilter(predicate: (doc: Document) => boolean): Filter | undefined {
  const tokens = tokenize(Function.prototype.toString.call(predicate));
  if (tokens === undefined) return undefined;
  const filter = new Recogniser(tokens).read();
  if (filter === undefined) return undefined;
  try {
    return validateFilter(filter);
  } catch {
    return undefined;
  }
}

function valueAt(metadata: Record<string, unknown>, key: string): unknown {
  let v: unknown = metadata;
  for (const part of key.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * How the index reads a condition on a document whose value at `key` is missing or a string, number
 * or boolean; undefined for any other value (an array, an object, null), where `===` and the index
 * may part ways.
 */
function holds(c: Condition, metadata: Record<string, unknown>): boolean | undefined {
  const v = valueAt(metadata, c.key);
  if (v !== undefined && typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) return undefined;
  if ('eq' in c) return v === c.eq;
  if ('in' in c) return v !== undefined && c.in.includes(v as FilterValue);
  if ('range' in c) {
    const r = c.range;
    return (
      typeof v === 'number' &&
      (r.gt === undefined || v > r.gt) &&
      (r.gte === undefined || v >= r.gte) &&
      (r.lt === undefined || v < r.lt) &&
      (r.lte === undefined || v <= r.lte)
    );
  }
  return (v !== undefined) === c.exists;
}

function matches(filter: Filter, metadata: Record<string, unknown>): boolean | undefined {
  const all = (cs: Condition[] | undefined) => (cs ?? []).map((c) => holds(c, metadata));
  const must = all(filter.must);
  const should = all(filter.should);
  const mustNot = all(filter.must_not);
  if ([...must, ...should, ...mustNot].includes(undefined)) return undefined;
  return must.every(Boolean) && (should.length === 0 || should.some(Boolean)) && !mustNot.some(Boolean);
}

/**
 * The declarative equivalent of `predicate`: the filter its source spells, provided that on every
 * candidate it was seen to judge, the filter gives the same verdict and reads only missing or
 * scalar values. Undefined when there is none (or the candidates contradict it).
 */
export function declarativeEquivalent(predicate: (doc: Document) => boolean, seen: readonly FilterVerdict[]): Filter | undefined {
  const filter = recogniseFunctionFilter(predicate);
  if (filter === undefined) return undefined;
  return seen.every((s) => matches(filter, s.metadata) === s.passed) ? filter : undefined;
}

/** The once-per-store advice for a function filter, with its declarative equivalent when it has one. */
export function functionFilterAdvice(equivalent: Filter | undefined): string {
  const head =
    'ragwire: a function filter runs in this process on fetched candidates (fetching more until k pass); a declarative filter runs inside the index and is faster. ';
  return equivalent
    ? `${head}This one as a declarative filter (equivalent where its metadata values are strings, numbers or booleans): ${JSON.stringify(equivalent)}`
    : `${head}No declarative equivalent found for this one; the form is { must, should, must_not } of { key, eq | in | range | exists } (docs/search.md §4).`;
}
