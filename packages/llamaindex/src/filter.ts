// LlamaIndex MetadataFilters -> ragwire filters (docs/protocol.md §6).
import type { MetadataFilter, MetadataFilters } from '@llamaindex/core/vector-store';
import { UnsupportedFilterError, type Condition, type Filter, type FilterValue } from '@ragwire/protocol';

type Clause = 'must' | 'must_not';

function scalar(f: MetadataFilter): FilterValue {
  const v = f.value;
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw new UnsupportedFilterError(`filter on "${f.key}" with operator ${f.operator} needs a string or number value, got ${JSON.stringify(v)}`);
}

function list(f: MetadataFilter): FilterValue[] {
  const v = f.value;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)))) return v;
  throw new UnsupportedFilterError(`filter on "${f.key}" with operator ${f.operator} needs an array of strings or numbers, got ${JSON.stringify(v)}`);
}

function number(f: MetadataFilter): number {
  const v = f.value;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new UnsupportedFilterError(`filter on "${f.key}" with operator ${f.operator} needs a finite number, got ${JSON.stringify(v)}`);
}

/**
 * One MetadataFilter as ragwire conditions, each with the clause it must go in: `must` conditions
 * that all have to hold, or `must_not` conditions none of which may hold.
 * Array metadata matches when any element does, so `contains` is `eq` and `any` is `in`.
 */
function conditions(f: MetadataFilter): [Clause, Condition][] {
  const key = f.key;
  switch (f.operator) {
    case '==':
      return [['must', { key, eq: scalar(f) }]];
    case '!=':
      return [['must_not', { key, eq: scalar(f) }]];
    case '>':
      return [['must', { key, range: { gt: number(f) } }]];
    case '>=':
      return [['must', { key, range: { gte: number(f) } }]];
    case '<':
      return [['must', { key, range: { lt: number(f) } }]];
    case '<=':
      return [['must', { key, range: { lte: number(f) } }]];
    case 'in':
    case 'any':
      return [['must', { key, in: list(f) }]];
    case 'nin':
      return [['must_not', { key, in: list(f) }]];
    case 'all': {
      const values = list(f);
      if (values.length === 0) throw new UnsupportedFilterError(`filter on "${key}" with operator all needs at least one value`);
      return values.map((v) => ['must', { key, eq: v }]);
    }
    case 'contains':
      return [['must', { key, eq: scalar(f) }]];
    case 'is_empty':
      // Absent, null and [] all leave no indexed value.
      return [['must', { key, exists: false }]];
    case 'text_match':
      throw new UnsupportedFilterError(`filter on "${key}": ragwire has no full-text match (operator text_match); filter on exact values instead`);
    default:
      throw new UnsupportedFilterError(`filter on "${key}": unknown operator ${JSON.stringify((f as { operator: unknown }).operator)}`);
  }
}

/**
 * Converts LlamaIndex filters (and a `docIds` restriction on ref_doc_id) into one ragwire filter.
 * AND maps every operator; OR maps the positive ones (a negation such as != or nin, or `all`
 * of several values, has no place in an OR of ragwire conditions and throws UnsupportedFilterError).
 */
export function toRagwireFilter(filters: MetadataFilters | undefined, docIds?: string[]): Filter | undefined {
  const out: Required<Filter> = { must: [], should: [], must_not: [] };
  if (docIds !== undefined && docIds.length > 0) out.must.push({ key: 'ref_doc_id', in: docIds });
  const items = filters?.filters ?? [];
  const condition = filters?.condition ?? 'and';
  if (condition !== 'and' && condition !== 'or') throw new UnsupportedFilterError(`unknown filter condition ${JSON.stringify(condition)}`);
  if (condition === 'or' && items.length > 1) {
    for (const f of items) {
      const cs = conditions(f);
      if (cs.length !== 1 || cs[0]![0] !== 'must') {
        throw new UnsupportedFilterError(`operator ${f.operator} on "${f.key}" cannot be part of an OR filter in ragwire; use AND, or rephrase it positively`);
      }
      out.should.push(cs[0]![1]);
    }
  } else {
    for (const f of items) for (const [clause, c] of conditions(f)) out[clause].push(c);
  }
  const result: Filter = {};
  if (out.must.length) result.must = out.must;
  if (out.should.length) result.should = out.should;
  if (out.must_not.length) result.must_not = out.must_not;
  return Object.keys(result).length === 0 ? undefined : result;
}
