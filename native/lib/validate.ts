import {
  DEFAULT_LIMITS,
  DimensionMismatchError,
  INDEX_KINDS,
  INDEX_PARAM_RANGES,
  InvalidArgumentError,
  LimitExceededError,
  METRICS,
  STORAGES,
  UnknownOptionError,
  NO_LABEL,
} from '@ragwire/protocol';

export const MAX_DIM = DEFAULT_LIMITS.maxDim;
export const MAX_K = DEFAULT_LIMITS.maxK;

/** An index parameter checked against its range in the protocol's table. */
export function checkParam(what: string, name: keyof typeof INDEX_PARAM_RANGES, value: unknown): number {
  const [min, max] = INDEX_PARAM_RANGES[name];
  return checkInt(what, value, min, max);
}

/** Rejects keys a caller may have mistyped (`efsearch` for `efSearch`). */
export function checkKeys(what: string, value: object, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new UnknownOptionError(`unknown option ${what}.${key}; expected one of: ${allowed.join(', ')}`);
    }
  }
}

export function checkInt(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${what} must be an integer >= ${min}, got ${String(value)}`);
  }
  if (value > max) throw new LimitExceededError(`${what} must be at most ${max}, got ${value}`);
  return value;
}

/** A boolean, or undefined when not given. */
export function checkOptionalBoolean(what: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidArgumentError(`${what} must be a boolean, got ${typeof value}`);
  return value;
}

export function checkOneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidArgumentError(`${what} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export const checkMetric = (v: unknown) => checkOneOf('metric', v, METRICS);
export const checkKind = (v: unknown) => checkOneOf('kind', v, INDEX_KINDS);
export const checkStorage = (v: unknown) => checkOneOf('storage', v, STORAGES);
export const DEVICES = ['cpu', 'opencl', 'cuda', 'auto'] as const;
export const checkDevice = (v: unknown) => checkOneOf('device', v, DEVICES);
export const VECTOR_PLACEMENTS = ['memory', 'disk'] as const;
export const checkPlacement = (v: unknown) => checkOneOf('vectors', v, VECTOR_PLACEMENTS);

/** A file path: a non-empty string. */
export function checkPath(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0')) {
    throw new InvalidArgumentError(`${what} must be a non-empty path string, got ${describe(value)}`);
  }
  return value;
}

/**
 * vectors must hold rows x dim floats. Finiteness is checked by the engine on
 * its own threads (a JS loop over millions of floats would block the event loop).
 */
export function checkVectors(what: string, vectors: unknown, dim: number, rows?: number): Float32Array {
  if (!(vectors instanceof Float32Array)) {
    throw new InvalidArgumentError(`${what} must be a Float32Array, got ${describe(vectors)}`);
  }
  if (rows !== undefined && vectors.length !== rows * dim) {
    throw new DimensionMismatchError(`${what} holds ${vectors.length} floats; expected ${rows} x dim ${dim} = ${rows * dim}`);
  }
  if (vectors.length % dim !== 0) {
    throw new DimensionMismatchError(`${what} length ${vectors.length} is not a multiple of the dimension ${dim}`);
  }
  return vectors;
}

export function checkLabels(labels: unknown): Uint32Array {
  if (!(labels instanceof Uint32Array)) {
    throw new InvalidArgumentError(`labels must be a Uint32Array, got ${describe(labels)}`);
  }
  if (labels.includes(NO_LABEL)) {
    throw new InvalidArgumentError('label 4294967295 (0xFFFFFFFF) is reserved for empty result slots');
  }
  return labels;
}

export function checkFilter(filter: unknown): Uint8Array | Uint32Array | undefined {
  if (filter === undefined) return undefined;
  if (filter instanceof Uint8Array) return filter;
  if (filter instanceof Uint32Array) {
    for (let i = 1; i < filter.length; i++) {
      if (filter[i - 1]! >= filter[i]!) {
        throw new InvalidArgumentError(`a Uint32Array filter must be sorted ascending without repeats (index ${i})`);
      }
    }
    return filter;
  }
  throw new InvalidArgumentError(`filter must be a Uint8Array bitset or a sorted Uint32Array of labels, got ${describe(filter)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
