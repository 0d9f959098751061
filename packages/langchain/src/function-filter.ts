// The declarative filter a function filter (`(doc) => boolean`) amounts to, when it has one: its
// source is parsed by acorn (never evaluated), the syntax tree matched against the common shapes, and
// the result checked against the verdicts the function gave on the candidates it saw.
//
// Recognised, under `&&` (every part) or `||` (any part), parenthesised or not, in an arrow or a
// `function` returning it, with the parameter named anything or destructured as `({ metadata })`:
//   doc.metadata.KEY === / !== LITERAL        (either side; KEY may be nested: a.b, a['b'], a?.b)
//   doc.metadata.KEY > / >= / < / <= NUMBER
//   [LITERAL, ...].includes(doc.metadata.KEY), and its negation with `!`
// Anything else (a variable from the closure, a method call, pageContent, `==`) has none.
import type { Document } from '@langchain/core/documents';
import { parseExpressionAt, type Expression, type Node, type Pattern } from 'acorn';
import { validateFilter, type Condition, type Filter, type FilterValue, type RangeBounds } from '@ragwire/protocol';

/** One candidate the function saw, and its verdict. */
export interface FilterVerdict {
  metadata: Record<string, unknown>;
  passed: boolean;
}

interface Atom {
  clause: 'must' | 'must_not';
  condition: Condition;
}

const FLIP: Record<string, string> = { '>': '<', '>=': '<=', '<': '>', '<=': '>=', '===': '===', '!==': '!==' };
const BOUND: Record<string, keyof RangeBounds> = { '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' };

/** How the predicate names the document's metadata: through its parameter, or destructured. */
type Root = { param: string } | { destructured: true };

/** The root a predicate's one parameter gives, or undefined for any other parameter list. */
function rootOf(params: Pattern[]): Root | undefined {
  if (params.length !== 1) return undefined;
  const p = params[0]!;
  if (p.type === 'Identifier') return { param: p.name };
  if (p.type !== 'ObjectPattern' || p.properties.length !== 1) return undefined;
  const prop = p.properties[0]!;
  const named = prop.type === 'Property' && prop.shorthand && prop.key.type === 'Identifier' && prop.key.name === 'metadata';
  return named ? { destructured: true } : undefined;
}

/** The returned expression of an arrow or function: its expression body, or a body that is one `return`. */
function returned(fn: Node): { root: Root; expression: Expression } | undefined {
  if (fn.type !== 'ArrowFunctionExpression' && fn.type !== 'FunctionExpression') return undefined;
  const f = fn as Extract<Expression, { type: 'ArrowFunctionExpression' | 'FunctionExpression' }>;
  const root = rootOf(f.params);
  if (root === undefined || f.async || f.generator) return undefined;
  if (f.body.type !== 'BlockStatement') return { root, expression: f.body };
  const [only, ...rest] = f.body.body;
  return only?.type === 'ReturnStatement' && only.argument && rest.length === 0 ? { root, expression: only.argument } : undefined;
}

/** A literal a filter can compare with: a string, a finite number (negated or not) or a boolean. */
function literal(node: Node): FilterValue | undefined {
  if (node.type === 'UnaryExpression') {
    const u = node as Extract<Expression, { type: 'UnaryExpression' }>;
    const v = u.operator === '-' ? literal(u.argument) : undefined;
    return typeof v === 'number' ? -v : undefined;
  }
  if (node.type !== 'Literal') return undefined;
  const v = (node as Extract<Expression, { type: 'Literal' }>).value;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  return typeof v === 'string' || typeof v === 'boolean' ? v : undefined;
}

/** `param.metadata.a.b` (or `metadata.a.b` when destructured; `?.` and `['b']` too) as the key `a.b`. */
function path(node: Node, root: Root): string | undefined {
  const parts: string[] = [];
  let at: Node = node.type === 'ChainExpression' ? (node as Extract<Expression, { type: 'ChainExpression' }>).expression : node;
  while (at.type === 'MemberExpression') {
    const m = at as Extract<Expression, { type: 'MemberExpression' }>;
    const name = m.computed ? literal(m.property) : m.property.type === 'Identifier' ? m.property.name : undefined;
    if (typeof name !== 'string' || name === '' || name.includes('.')) return undefined;
    parts.unshift(name);
    at = m.object;
  }
  if (at.type !== 'Identifier') return undefined;
  const base = (at as Extract<Expression, { type: 'Identifier' }>).name;
  if ('destructured' in root) {
    if (base !== 'metadata') return undefined;
  } else if (base !== root.param || parts.shift() !== 'metadata') return undefined;
  return parts.length > 0 ? parts.join('.') : undefined;
}

/** `[LITERAL, ...].includes(path)`. */
function includes(node: Node, root: Root): Condition | undefined {
  if (node.type !== 'CallExpression') return undefined;
  const call = node as Extract<Expression, { type: 'CallExpression' }>;
  const callee = call.callee;
  if (callee.type !== 'MemberExpression' || callee.computed || callee.optional || call.optional) return undefined;
  if (callee.property.type !== 'Identifier' || callee.property.name !== 'includes' || callee.object.type !== 'ArrayExpression') return undefined;
  const values = callee.object.elements.map((e) => (e === null || e.type === 'SpreadElement' ? undefined : literal(e)));
  if (values.length === 0 || values.includes(undefined) || call.arguments.length !== 1 || call.arguments[0]!.type === 'SpreadElement') return undefined;
  const key = path(call.arguments[0]!, root);
  return key === undefined ? undefined : { key, in: values as FilterValue[] };
}

/** One comparison or includes, as a must or must_not condition. */
function atom(node: Node, root: Root): Atom | undefined {
  if (node.type === 'UnaryExpression') {
    const u = node as Extract<Expression, { type: 'UnaryExpression' }>;
    const inc = u.operator === '!' ? includes(u.argument, root) : undefined;
    return inc ? { clause: 'must_not', condition: inc } : undefined;
  }
  if (node.type === 'CallExpression') {
    const inc = includes(node, root);
    return inc ? { clause: 'must', condition: inc } : undefined;
  }
  if (node.type !== 'BinaryExpression') return undefined;
  const b = node as Extract<Expression, { type: 'BinaryExpression' }>;
  if (!(b.operator in FLIP)) return undefined;
  let key = path(b.left, root);
  let value = literal(b.right);
  let op = b.operator;
  if (key === undefined) {
    key = path(b.right, root);
    value = literal(b.left);
    op = FLIP[op]! as typeof op;
  }
  if (key === undefined || value === undefined) return undefined;
  if (op === '===') return { clause: 'must', condition: { key, eq: value } };
  if (op === '!==') return { clause: 'must_not', condition: { key, eq: value } };
  if (typeof value !== 'number') return undefined;
  return { clause: 'must', condition: { key, range: { [BOUND[op]!]: value } } };
}

/** The atoms of a tree of `&&` or `||` (one operator throughout), with that operator. */
function atoms(node: Node, root: Root, out: { op?: '&&' | '||'; atoms: Atom[] }): boolean {
  if (node.type === 'LogicalExpression') {
    const l = node as Extract<Expression, { type: 'LogicalExpression' }>;
    if (l.operator === '??' || (out.op !== undefined && out.op !== l.operator)) return false;
    out.op = l.operator;
    return atoms(l.left, root, out) && atoms(l.right, root, out);
  }
  const a = atom(node, root);
  if (a) out.atoms.push(a);
  return a !== undefined;
}

/** The filter a predicate's source spells, or undefined when it is not one of the shapes above. */
function recogniseFunctionFilter(predicate: (doc: Document) => boolean): Filter | undefined {
  const source = Function.prototype.toString.call(predicate);
  let fn: Expression;
  try {
    fn = parseExpressionAt(source, 0, { ecmaVersion: 'latest' });
  } catch {
    return undefined; // a method shorthand, native code: not an expression on its own
  }
  if (fn.end !== source.length) return undefined;
  const r = returned(fn);
  const parts: { op?: '&&' | '||'; atoms: Atom[] } = { atoms: [] };
  if (r === undefined || !atoms(r.expression, r.root, parts)) return undefined;
  let filter: Filter;
  if (parts.op === '||') {
    if (parts.atoms.some((a) => a.clause !== 'must')) return undefined;
    filter = { should: parts.atoms.map((a) => a.condition) };
  } else {
    const must = parts.atoms.filter((a) => a.clause === 'must').map((a) => a.condition);
    const mustNot = parts.atoms.filter((a) => a.clause === 'must_not').map((a) => a.condition);
    filter = { ...(must.length ? { must } : {}), ...(mustNot.length ? { must_not: mustNot } : {}) };
  }
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
