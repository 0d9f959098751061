// Collection settings: validated once at creation, stored with the collection.
import {
  DEFAULT_LIMITS,
  INDEX_KINDS,
  INDEX_PARAM_RANGES,
  InvalidArgumentError,
  LimitExceededError,
  METRICS,
  STORAGES,
  UnknownOptionError,
  type IndexKind,
  type Metric,
  type Storage,
  type TextSettings,
} from '@ragwire/protocol';
import { validateTextSettings } from './text/text-settings';
import { createIndex, type IndexOptions } from '@ragwire/native';

export interface CollectionSettings {
  name: string;
  dim: number;
  metric: Metric;
  kind: IndexKind;
  storage: Storage;
  /** Index parameters: M, efConstruction, efSearch, seed, inlineCodes (hnsw); rerankFactor (bq, quantized flat). */
  params: Record<string, number>;
  /** The text index's tokenizer and BM25 parameters (docs/search.md §1). Absent in collections made before it: the defaults. */
  text?: TextSettings;
}

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const PARAMS: Readonly<Record<string, readonly [number, number]>> = INDEX_PARAM_RANGES;
/**
 * Parameters that switch an engine option on (1) or leave it off (0, the default), numbers so that
 * `params` stays a map of numbers on the wire: inlineCodes is the engine's `hnsw.inlineCodes`
 * (docs/engine.md, "Inline codes on layer 0").
 */
const SWITCHES: readonly string[] = ['inlineCodes'];

export function validateSettings(input: {
  name: unknown;
  dim: unknown;
  metric: unknown;
  kind?: unknown;
  storage?: unknown;
  params?: unknown;
  text?: unknown;
}): CollectionSettings {
  const { name, dim } = input;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidArgumentError(`collection name must be 1-128 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(name)}`);
  }
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) throw new InvalidArgumentError(`dim must be a positive integer, got ${String(dim)}`);
  if (dim > DEFAULT_LIMITS.maxDim) throw new LimitExceededError(`dim must be at most ${DEFAULT_LIMITS.maxDim}, got ${dim}`);
  const oneOf = <T extends string>(what: string, v: unknown, allowed: readonly T[]): T => {
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      throw new InvalidArgumentError(`${what} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  };
  const params: Record<string, number> = {};
  const raw = input.params ?? {};
  if (typeof raw !== 'object' || raw === null) throw new InvalidArgumentError('params must be an object');
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (SWITCHES.includes(key)) {
      if (value !== 0 && value !== 1) throw new InvalidArgumentError(`params.${key} must be 0 (off) or 1 (on), got ${String(value)}`);
      params[key] = value;
      continue;
    }
    const range = PARAMS[key];
    if (!range) throw new UnknownOptionError(`unknown index parameter ${key}; expected one of ${[...Object.keys(PARAMS), ...SWITCHES].join(', ')}`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0]) {
      throw new InvalidArgumentError(`params.${key} must be an integer of at least ${range[0]}, got ${String(value)}`);
    }
    if (value > range[1]) throw new LimitExceededError(`params.${key} must be at most ${range[1]}, got ${value}`);
    params[key] = value;
  }
  return {
    name,
    dim,
    metric: oneOf('metric', input.metric, METRICS),
    kind: oneOf('kind', input.kind ?? 'hnsw', INDEX_KINDS),
    storage: oneOf('storage', input.storage ?? 'f32', STORAGES),
    params,
    text: validateTextSettings(input.text),
  };
}

export function sameSettings(a: CollectionSettings, b: CollectionSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether a collection's layout walks codes in memory, so its f32 rows may live on disk. */
export function mayPlaceOnDisk(s: CollectionSettings): boolean {
  return s.kind === 'bq' || s.storage !== 'f32';
}

/** A disk-resident collection's vector file: beside its snapshot. */
export function vectorsPath(snapshotPath: string): string {
  return `${snapshotPath}.vectors`;
}

/** The engine options for a collection's index. */
export function indexOptions(s: CollectionSettings): IndexOptions {
  const { M, efConstruction, efSearch, seed, rerankFactor } = s.params;
  return {
    dim: s.dim,
    metric: s.metric,
    kind: s.kind,
    storage: s.storage,
    hnsw: { M, efConstruction, efSearch, seed, inlineCodes: s.params.inlineCodes === 1 },
    bq: { rerankFactor },
  };
}

/**
 * Refuses settings the engine would not build (inlineCodes on f32 storage, say) before the store
 * records the collection: the engine is the one place that knows which combinations it builds, and an
 * empty index allocates nothing.
 */
export function checkEngineAccepts(s: CollectionSettings): void {
  createIndex(indexOptions(s)).close();
}
