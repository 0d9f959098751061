// docs/protocol.md §6: metadata filters, their types and their structural validation.
import { InvalidFilterError, LimitExceededError } from './errors';
import { isPlainObject, utf8Length } from './fields';
import { DEFAULT_LIMITS, type ProtocolLimits } from './limits';

/** A value a metadata field can be compared with. */
export type FilterValue = string | number | boolean;

/** Bounds on a numeric field; at least one is present. */
export interface RangeBounds {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

/** One test on one metadata field, named by `key` (dots address nested maps: "author.name"). */
export type Condition =
  | { key: string; eq: FilterValue }
  | { key: string; in: FilterValue[] }
  | { key: string; range: RangeBounds }
  | { key: string; exists: boolean };

/**
 * A document matches when every `must` condition holds, at least one `should` condition holds
 * (when `should` is present and non-empty), and no `must_not` condition holds.
 */
export interface Filter {
  must?: Condition[];
  should?: Condition[];
  must_not?: Condition[];
}

export const CLAUSES = ['must', 'should', 'must_not'] as const;
/** A condition's operators, beside its `key`. */
export const FILTER_OPERATORS = ['eq', 'in', 'range', 'exists'] as const;
export const RANGE_BOUNDS = ['gt', 'gte', 'lt', 'lte'] as const;
export const MAX_FILTER_KEY_BYTES = 256;
/**
 * Longest string an `eq` or `in` compares with. Longer metadata strings (serialized nodes, whole texts)
 * are not value-indexed by the store, only noted as present: `exists` still sees them.
 */
export const MAX_FILTER_STRING_CHARS = 512;

function fail(path: string, message: string): never {
  throw new InvalidFilterError(`filter${path} ${message}`);
}

function checkStringLength(v: FilterValue, path: string): void {
  if (typeof v === 'string' && v.length > MAX_FILTER_STRING_CHARS) {
    fail(path, `must be at most ${MAX_FILTER_STRING_CHARS} characters (longer metadata strings are not indexed for eq / in), got ${v.length}`);
  }
}

function isFilterValue(v: unknown): v is FilterValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** True when a (validated) filter has no condition, so it matches every document. */
export function isEmptyFilter(filter: Filter): boolean {
  return CLAUSES.every((c) => (filter[c]?.length ?? 0) === 0);
}

/**
 * Checks a filter's structure and returns a normalised copy (absent or nil clauses and bounds
 * dropped). Throws InvalidFilterError naming the offending path, or LimitExceededError past
 * maxFilterConditions / maxFilterValues.
 */
export function validateFilter(value: unknown, limits: ProtocolLimits = DEFAULT_LIMITS): Filter {
  if (!isPlainObject(value)) fail('', 'must be a map of must / should / must_not clauses');
  for (const name of Object.keys(value)) {
    if (!(CLAUSES as readonly string[]).includes(name)) {
      fail('', `has unknown clause ${JSON.stringify(name)} (expected must, should, must_not)`);
    }
  }
  const out: Filter = {};
  let conditions = 0;
  for (const clause of CLAUSES) {
    const list = value[clause];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) fail(`.${clause}`, 'must be an array of conditions');
    conditions += list.length;
    if (conditions > limits.maxFilterConditions) {
      throw new LimitExceededError(`filter has more than maxFilterConditions = ${limits.maxFilterConditions} conditions`);
    }
    out[clause] = list.map((c, i) => validateCondition(c, `.${clause}[${i}]`, limits));
  }
  return out;
}

function validateCondition(c: unknown, path: string, limits: ProtocolLimits): Condition {
  if (!isPlainObject(c)) fail(path, 'must be a map such as { key, eq }');
  const key = c.key;
  if (typeof key !== 'string' || key.length === 0) fail(`${path}.key`, 'must be a non-empty string');
  if (utf8Length(key, MAX_FILTER_KEY_BYTES) > MAX_FILTER_KEY_BYTES) fail(`${path}.key`, `must be at most ${MAX_FILTER_KEY_BYTES} bytes`);
  const names = Object.keys(c);
  if (names.length !== 2) {
    fail(path, `must have "key" and exactly one of eq, in, range, exists; got ${names.join(', ')}`);
  }
  const op = names[0] === 'key' ? names[1]! : names[0]!;
  const operand = c[op];
  switch (op) {
    case 'eq':
      if (!isFilterValue(operand)) fail(`${path}.eq`, 'must be a string, a finite number or a boolean');
      checkStringLength(operand, `${path}.eq`);
      return { key, eq: operand };
    case 'in':
      if (!Array.isArray(operand)) fail(`${path}.in`, 'must be an array of values');
      if (operand.length > limits.maxFilterValues) {
        throw new LimitExceededError(`filter${path}.in has ${operand.length} values, over maxFilterValues = ${limits.maxFilterValues}`);
      }
      for (let i = 0; i < operand.length; i++) {
        if (!isFilterValue(operand[i])) fail(`${path}.in[${i}]`, 'must be a string, a finite number or a boolean');
        checkStringLength(operand[i], `${path}.in[${i}]`);
      }
      return { key, in: operand as FilterValue[] };
    case 'range':
      return { key, range: validateRange(operand, `${path}.range`) };
    case 'exists':
      if (typeof operand !== 'boolean') fail(`${path}.exists`, 'must be a boolean');
      return { key, exists: operand };
    default:
      return fail(path, `has unknown operator ${JSON.stringify(op)} (expected ${FILTER_OPERATORS.join(', ')})`);
  }
}

function validateRange(r: unknown, path: string): RangeBounds {
  if (!isPlainObject(r)) fail(path, 'must be a map of gt / gte / lt / lte bounds');
  const out: RangeBounds = {};
  for (const name of Object.keys(r)) {
    if (!(RANGE_BOUNDS as readonly string[]).includes(name)) fail(path, `has unknown bound ${JSON.stringify(name)} (expected gt, gte, lt, lte)`);
    const v = r[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${path}.${name}`, 'must be a finite number');
    out[name as keyof RangeBounds] = v;
  }
  if (Object.keys(out).length === 0) fail(path, 'must have at least one of gt, gte, lt, lte');
  return out;
}
