// LangChain filters -> ragwire filters (docs/protocol.md §6).
import type { Document } from '@langchain/core/documents';
import { UnsupportedFilterError, validateFilter, type Condition, type Filter, type FilterValue } from '@ragwire/protocol';

/**
 * What `filter` accepts: a ragwire filter (`{ must, should, must_not }` of `{ key, eq | in | range | exists }`),
 * or LangChain's plain equality object `{ source: 'a.md', 'author.name': 'Ada' }` where an array
 * value means "any of" and a nested object addresses nested metadata.
 */
export type RagwireLangChainFilter = Filter | Record<string, unknown> | DocumentPredicate;

/** MemoryVectorStore's filter: a function of each candidate document (runs in the client). */
export type DocumentPredicate = (doc: Document) => boolean;

export function isFunctionFilter(filter: unknown): filter is DocumentPredicate {
  return typeof filter === 'function';
}

const CLAUSES = new Set(['must', 'should', 'must_not']);

function isRagwireFilter(f: Record<string, unknown>): boolean {
  const keys = Object.keys(f);
  return keys.length > 0 && keys.every((k) => CLAUSES.has(k) && (f[k] === undefined || Array.isArray(f[k])));
}

function isScalar(v: unknown): v is FilterValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Converts a LangChain-side filter; undefined or `{}` is no filter. Throws UnsupportedFilterError for what ragwire cannot express. */
export function toRagwireFilter(filter: unknown): Filter | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter === 'function') {
    throw new UnsupportedFilterError('a function filter cannot run inside the index: it runs on fetched candidates (RagwireVectorStore does that)');
  }
  if (typeof filter !== 'object' || Array.isArray(filter)) {
    throw new UnsupportedFilterError(`filter must be an object, got ${typeof filter}`);
  }
  const f = filter as Record<string, unknown>;
  if (Object.keys(f).length === 0) return undefined;
  if (isRagwireFilter(f)) return validateFilter(f);
  const must: Condition[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v === undefined) continue;
      if (v === null) must.push({ key, exists: false });
      else if (isScalar(v)) must.push({ key, eq: v });
      else if (Array.isArray(v)) {
        if (!v.every(isScalar)) throw new UnsupportedFilterError(`filter.${key}: every value of an "any of" list must be a string, number or boolean`);
        must.push({ key, in: v });
      } else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) walk(v as Record<string, unknown>, key);
      else throw new UnsupportedFilterError(`filter.${key}: cannot compare metadata with ${Object.prototype.toString.call(v)}`);
    }
  };
  walk(f, '');
  return must.length === 0 ? undefined : validateFilter({ must });
}
