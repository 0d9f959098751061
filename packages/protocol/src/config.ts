// Configuration parsing for every server and the store: one JSON Schema per configuration, checked by
// ajv. Unknown keys are refused, an error names the field path, defaults written in the schema are
// filled in, and the result is deep-frozen.
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import { ConfigError } from './errors';

const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: false, useDefaults: true, verbose: true, coerceTypes: false });
ajv.addKeyword({
  keyword: 'instanceOf',
  schemaType: 'string',
  // A function or an object made by a class (a store, a logger): checked by kind, kept by reference.
  validate: (kind: string, data: unknown) => (kind === 'Function' ? typeof data === 'function' : data !== null && typeof data === 'object'),
});

/** A compiled configuration schema; `T` is the shape a valid input has once its defaults are in. */
export interface ConfigSchema<T> {
  readonly validate: ValidateFunction;
  /** Phantom: ties the schema to its type. */
  readonly type?: T;
}

/**
 * Compiles `schema` (JSON Schema draft-07; every object should say `additionalProperties: false`,
 * every field its `default` where it has one). `instanceOf: 'Function' | 'Object'` accepts a
 * function or an object that is passed through unchecked and unfrozen.
 */
export function configSchema<T>(schema: SchemaObject): ConfigSchema<T> {
  return { validate: ajv.compile(schema) };
}

/**
 * Checks `input` against `schema`, fills in the schema's defaults, lets `refine` check what a schema
 * cannot (cross-field rules, URLs) and normalise, then deep-freezes the result. `input` itself is not
 * changed. Throws ConfigError naming the field path (`admission.maxQueue`, `upstreams[0]`).
 */
export function parseConfig<T>(schema: ConfigSchema<T>, input: unknown, where: string): Readonly<T>;
export function parseConfig<T, R>(schema: ConfigSchema<T>, input: unknown, where: string, refine: (value: T) => R): Readonly<R>;
export function parseConfig<T, R>(schema: ConfigSchema<T>, input: unknown, where: string, refine?: (value: T) => R): Readonly<T | R> {
  const value = copyPlain(input === undefined ? {} : input);
  if (!schema.validate(value)) throw configErrorOf(schema.validate.errors![0]!, value, where);
  return deepFreeze(refine ? refine(value as T) : (value as T));
}

/** A field path (`auth.keys[0].key`, `rag.aliases["rag/x"]`) from its segments. */
function fieldPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out === '' ? '(root)' : out;
}

function configErrorOf(error: ErrorObject, root: unknown, where: string): ConfigError {
  const segments: (string | number)[] = [];
  let at = root;
  for (const raw of error.instancePath.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(at) ? Number(key) : key;
    segments.push(index);
    at = (at as Record<string | number, unknown>)[index];
  }
  const params = error.params as Record<string, unknown>;
  let reason: string;
  switch (error.keyword) {
    case 'additionalProperties': {
      segments.push(String(params.additionalProperty));
      const known = Object.keys((error.parentSchema as SchemaObject | undefined)?.properties ?? {});
      reason = known.length > 0 ? `unknown field; expected one of ${known.join(', ')}` : 'unknown field';
      break;
    }
    case 'required':
      segments.push(String(params.missingProperty));
      reason = 'is required';
      break;
    case 'enum':
      reason = `must be one of ${(params.allowedValues as unknown[]).join(', ')}, got ${show(error.data)}`;
      break;
    case 'instanceOf':
      reason = `must be ${error.schema === 'Function' ? 'a function' : 'an object'}, got ${show(error.data)}`;
      break;
    default:
      reason = `${error.message ?? 'is invalid'}, got ${show(error.data)}`;
  }
  return new ConfigError(where, fieldPath(segments), reason);
}

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? String(value);
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Plain objects and arrays copied all the way down; anything else (a store, a logger) kept by reference. */
function copyPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyPlain);
  if (!isPlain(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = copyPlain(v);
  return out;
}

function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || isPlain(value)) {
    for (const v of Object.values(value as object)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
