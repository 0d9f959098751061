import { describe, expect, it } from 'vitest';
import { MAX_FILTER_STRING_CHARS, validateFilter } from './filter';
import { resolveLimits } from './limits';
import { thrownCode } from './testing/thrown-code';

function codeOf(value: unknown, limits = resolveLimits()): string | undefined {
  return thrownCode(() => validateFilter(value, limits));
}

describe('validateFilter', () => {
  it('accepts every condition form in every clause', () => {
    const filter = {
      must: [
        { key: 'lang', eq: 'en' },
        { key: 'year', range: { gte: 2000, lt: 2030 } },
      ],
      should: [
        { key: 'tag', in: ['a', 2, false] },
        { key: 'flag', eq: true },
      ],
      must_not: [
        { key: 'draft', exists: true },
        { key: 'score', range: { gt: -1.5 } },
      ],
    };
    expect(validateFilter(filter)).toEqual(filter);
    expect(validateFilter({})).toEqual({});
    expect(validateFilter({ must: [] })).toEqual({ must: [] });
  });

  it('drops nil clauses and bounds (how an absent optional travels in msgpack)', () => {
    expect(validateFilter({ must: null, should: [{ key: 'a', range: { gt: 1, lt: null } }] })).toEqual({ should: [{ key: 'a', range: { gt: 1 } }] });
  });

  it('names what is wrong', () => {
    expect(() => validateFilter({ must: [{ key: 'a', gt: 1 }] })).toThrow('filter.must[0] has unknown operator "gt"');
    expect(() => validateFilter({ should: [{}, { key: 'b', range: {} }] })).toThrow('filter.should[0].key must be a non-empty string');
    expect(() => validateFilter({ must_not: [{ key: 'b', range: {} }] })).toThrow('filter.must_not[0].range must have at least one');
  });

  it.each([
    ['not a map', [1]],
    ['unknown clause', { filter: [] }],
    ['clause not an array', { must: { key: 'a', eq: 1 } }],
    ['condition not a map', { must: ['a'] }],
    ['missing key', { must: [{ eq: 1 }] }],
    ['empty key', { must: [{ key: '', eq: 1 }] }],
    ['long key', { must: [{ key: 'k'.repeat(257), eq: 1 }] }],
    ['two operators', { must: [{ key: 'a', eq: 1, exists: true }] }],
    ['no operator', { must: [{ key: 'a' }] }],
    ['eq object', { must: [{ key: 'a', eq: { x: 1 } }] }],
    ['eq null', { must: [{ key: 'a', eq: null }] }],
    ['eq NaN', { must: [{ key: 'a', eq: Number.NaN }] }],
    ['in not array', { must: [{ key: 'a', in: 'x' }] }],
    ['in nested', { must: [{ key: 'a', in: [[1]] }] }],
    ['range string', { must: [{ key: 'a', range: { gt: '1' } }] }],
    ['range infinite', { must: [{ key: 'a', range: { lt: Infinity } }] }],
    ['range unknown bound', { must: [{ key: 'a', range: { ge: 1 } }] }],
    ['range not a map', { must: [{ key: 'a', range: [1, 2] }] }],
    ['exists not boolean', { must: [{ key: 'a', exists: 1 }] }],
  ])('refuses %s with INVALID_FILTER', (_, value) => {
    expect(codeOf(value)).toBe('RAGWIRE_ERR_INVALID_FILTER');
  });

  it('compares strings of at most MAX_FILTER_STRING_CHARS characters', () => {
    const ok = 'a'.repeat(MAX_FILTER_STRING_CHARS);
    const long = `${ok}b`;
    expect(codeOf({ must: [{ key: 'k', eq: ok }] })).toBeUndefined();
    expect(codeOf({ must: [{ key: 'k', eq: long }] })).toBe('RAGWIRE_ERR_INVALID_FILTER');
    expect(codeOf({ should: [{ key: 'k', in: [ok, long] }] })).toBe('RAGWIRE_ERR_INVALID_FILTER');
  });

  it('enforces maxFilterConditions and maxFilterValues', () => {
    const limits = resolveLimits({ maxFilterConditions: 3, maxFilterValues: 2 });
    const c = { key: 'a', eq: 1 };
    expect(codeOf({ must: [c, c], should: [c] }, limits)).toBeUndefined();
    expect(codeOf({ must: [c, c], should: [c, c] }, limits)).toBe('RAGWIRE_ERR_LIMIT');
    expect(codeOf({ must: [{ key: 'a', in: [1, 2, 3] }] }, limits)).toBe('RAGWIRE_ERR_LIMIT');
  });
});
