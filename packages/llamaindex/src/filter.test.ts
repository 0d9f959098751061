import { describe, expect, it } from 'vitest';
import type { MetadataFilter } from '@llamaindex/core/vector-store';
import { toRagwireFilter } from './filter';

const one = (f: MetadataFilter) => toRagwireFilter({ filters: [f] });
const unsupported = expect.objectContaining({ code: 'RAGWIRE_ERR_UNSUPPORTED_FILTER' });

describe('toRagwireFilter (LlamaIndex MetadataFilters)', () => {
  it('maps every operator ragwire can express', () => {
    expect(one({ key: 'a', value: 'x', operator: '==' })).toEqual({ must: [{ key: 'a', eq: 'x' }] });
    expect(one({ key: 'a', value: 'x', operator: '!=' })).toEqual({ must_not: [{ key: 'a', eq: 'x' }] });
    expect(one({ key: 'n', value: 1, operator: '>' })).toEqual({ must: [{ key: 'n', range: { gt: 1 } }] });
    expect(one({ key: 'n', value: 1, operator: '>=' })).toEqual({ must: [{ key: 'n', range: { gte: 1 } }] });
    expect(one({ key: 'n', value: 1, operator: '<' })).toEqual({ must: [{ key: 'n', range: { lt: 1 } }] });
    expect(one({ key: 'n', value: 1, operator: '<=' })).toEqual({ must: [{ key: 'n', range: { lte: 1 } }] });
    expect(one({ key: 'a', value: ['x', 'y'], operator: 'in' })).toEqual({ must: [{ key: 'a', in: ['x', 'y'] }] });
    expect(one({ key: 'a', value: ['x', 'y'], operator: 'nin' })).toEqual({ must_not: [{ key: 'a', in: ['x', 'y'] }] });
    expect(one({ key: 't', value: ['x', 'y'], operator: 'any' })).toEqual({ must: [{ key: 't', in: ['x', 'y'] }] });
    expect(one({ key: 't', value: ['x', 'y'], operator: 'all' })).toEqual({
      must: [
        { key: 't', eq: 'x' },
        { key: 't', eq: 'y' },
      ],
    });
    expect(one({ key: 't', value: 'x', operator: 'contains' })).toEqual({ must: [{ key: 't', eq: 'x' }] });
    expect(one({ key: 't', operator: 'is_empty' })).toEqual({ must: [{ key: 't', exists: false }] });
  });

  it('maps OR of positive operators to should, and adds docIds on ref_doc_id', () => {
    expect(
      toRagwireFilter(
        {
          filters: [
            { key: 'a', value: 'x', operator: '==' },
            { key: 'n', value: 3, operator: '<' },
          ],
          condition: 'or',
        },
        ['doc-1'],
      ),
    ).toEqual({
      must: [{ key: 'ref_doc_id', in: ['doc-1'] }],
      should: [
        { key: 'a', eq: 'x' },
        { key: 'n', range: { lt: 3 } },
      ],
    });
    expect(toRagwireFilter(undefined)).toBeUndefined();
    expect(toRagwireFilter({ filters: [] })).toBeUndefined();
  });

  it('throws a typed error for what it cannot express, never ignoring a filter', () => {
    expect(() => one({ key: 'body', value: 'fast', operator: 'text_match' })).toThrow(unsupported);
    expect(() => one({ key: 'n', value: 'three', operator: '>' })).toThrow(unsupported);
    expect(() => one({ key: 'a', value: 'x', operator: 'in' })).toThrow(unsupported);
    expect(() => one({ key: 'a', value: ['x'], operator: 'weird' as '==' })).toThrow(unsupported);
    const or = (f: MetadataFilter) => toRagwireFilter({ filters: [{ key: 'a', value: 'x', operator: '==' }, f], condition: 'or' });
    expect(() => or({ key: 'b', value: 'y', operator: '!=' })).toThrow(unsupported);
    expect(() => or({ key: 'b', value: ['y'], operator: 'nin' })).toThrow(unsupported);
    expect(() => or({ key: 'b', value: ['y', 'z'], operator: 'all' })).toThrow(unsupported);
  });
});
