// LlamaIndex filters ragwire's index cannot express, run on fetched candidates instead (the client's
// queryWithPredicate): `text_match` (a case-insensitive substring of a metadata string, or of the node
// text for the key `text`), and an OR holding a negation (!=, nin), an `all` of several values or a
// text_match. Everything else stays a declarative filter, evaluated inside the index.
import type { MetadataFilter, MetadataFilters } from '@llamaindex/core/vector-store';
import type { Filter, Payload } from '@ragwire/protocol';
import { toRagwireFilter } from './filter';

export interface FilterPlan {
  /** Runs inside the index. */
  filter?: Filter;
  /** Runs on each candidate's payload, after the index. */
  predicate?: (payload: Payload | null) => boolean;
}

const NEGATIONS = new Set(['!=', 'nin']);

function inexpressibleInOr(f: MetadataFilter): boolean {
  return NEGATIONS.has(f.operator) || f.operator === 'text_match' || (f.operator === 'all' && Array.isArray(f.value) && f.value.length > 1);
}

/** Splits `filters` (and a docIds restriction) into what the index runs and what runs on candidates. */
export function planFilters(filters: MetadataFilters | undefined, docIds?: string[]): FilterPlan {
  const items = filters?.filters ?? [];
  const or = (filters?.condition ?? 'and') === 'or' && items.length > 1;
  const residual = or ? (items.some(inexpressibleInOr) ? items : []) : items.filter((f) => f.operator === 'text_match');
  if (residual.length === 0) {
    const filter = toRagwireFilter(filters, docIds);
    return filter ? { filter } : {};
  }
  // Checked as the declarative path checks them (value types), except text_match's string value.
  for (const f of residual) if (f.operator !== 'text_match') toRagwireFilter({ filters: [f] });
  for (const f of residual) if (f.operator === 'text_match' && typeof f.value !== 'string') toRagwireFilter({ filters: [{ ...f, operator: '==' }] });
  const declarative = or ? toRagwireFilter(undefined, docIds) : toRagwireFilter({ filters: items.filter((f) => f.operator !== 'text_match') }, docIds);
  const predicate = (p: Payload | null) => (or ? residual.some((f) => matches(f, p)) : residual.every((f) => matches(f, p)));
  return declarative ? { filter: declarative, predicate } : { predicate };
}

/** The scalar values at a dotted path; an array contributes each element (as the filter index reads it). */
function valuesAt(metadata: Record<string, unknown> | undefined, key: string): unknown[] {
  let level: unknown[] = [metadata];
  for (const part of key.split('.')) {
    const next: unknown[] = [];
    for (const v of level) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
      const child = (v as Record<string, unknown>)[part];
      if (Array.isArray(child)) next.push(...child);
      else if (child !== undefined && child !== null) next.push(child);
    }
    level = next;
  }
  return level;
}

/** One MetadataFilter on one payload, with the filter index's semantics (absent fields fail positives, pass negations). */
export function matches(f: MetadataFilter, p: Payload | null): boolean {
  const vals = valuesAt(p?.metadata, f.key);
  const v = f.value;
  const list = (Array.isArray(v) ? v : [v]) as unknown[];
  switch (f.operator) {
    case '==':
    case 'contains':
      return vals.includes(v);
    case '!=':
      return !vals.includes(v);
    case '>':
      return vals.some((x) => typeof x === 'number' && x > (v as number));
    case '>=':
      return vals.some((x) => typeof x === 'number' && x >= (v as number));
    case '<':
      return vals.some((x) => typeof x === 'number' && x < (v as number));
    case '<=':
      return vals.some((x) => typeof x === 'number' && x <= (v as number));
    case 'in':
    case 'any':
      return vals.some((x) => list.includes(x));
    case 'nin':
      return !vals.some((x) => list.includes(x));
    case 'all':
      return list.every((x) => vals.includes(x));
    case 'is_empty':
      return vals.length === 0;
    case 'text_match': {
      const needle = String(v).toLowerCase();
      const texts = f.key === 'text' && vals.length === 0 ? [p?.text ?? ''] : vals;
      return texts.some((x) => typeof x === 'string' && x.toLowerCase().includes(needle));
    }
    default:
      return false;
  }
}
