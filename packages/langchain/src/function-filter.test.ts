// The declarative equivalent of a function filter: the shapes recognised from its source, the ones
// refused, and candidates that contradict a recognised shape.
import { describe, expect, it } from 'vitest';
import type { Document } from '@langchain/core/documents';
import { declarativeEquivalent, functionFilterAdvice } from './function-filter';

type Predicate = (doc: Document) => boolean;
const of = (f: Predicate) => declarativeEquivalent(f, []);

describe('declarativeEquivalent', () => {
  it('reads equality, ranges and includes on metadata, in arrows and functions', () => {
    expect(of((doc) => doc.metadata.source === 'a.md')).toEqual({ must: [{ key: 'source', eq: 'a.md' }] });
    expect(of((d) => d.metadata.year >= 2020 && d.metadata.lang === 'en')).toEqual({
      must: [
        { key: 'year', range: { gte: 2020 } },
        { key: 'lang', eq: 'en' },
      ],
    });
    expect(of((d) => ['a.md', 'b.md'].includes(d.metadata.source))).toEqual({ must: [{ key: 'source', in: ['a.md', 'b.md'] }] });
    expect(of((d) => !['x', 'y'].includes(d.metadata.tag))).toEqual({ must_not: [{ key: 'tag', in: ['x', 'y'] }] });
    expect(of((d) => 2010 < d.metadata.year && d.metadata.draft !== true)).toEqual({
      must: [{ key: 'year', range: { gt: 2010 } }],
      must_not: [{ key: 'draft', eq: true }],
    });
    expect(of((d) => d.metadata.author?.name === "O'Brien" || d.metadata['rank'] <= -1.5)).toEqual({
      should: [
        { key: 'author.name', eq: "O'Brien" },
        { key: 'rank', range: { lte: -1.5 } },
      ],
    });
    expect(
      of(function keep(doc) {
        return doc.metadata.n === 3 && doc.metadata.year < 2000 && doc.metadata.year >= 1990;
      }),
    ).toEqual({
      must: [
        { key: 'n', eq: 3 },
        { key: 'year', range: { lt: 2000 } },
        { key: 'year', range: { gte: 1990 } },
      ],
    });
    expect(of(({ metadata }) => metadata.lang === 'en')).toEqual({ must: [{ key: 'lang', eq: 'en' }] });
  });

  it('finds none for what a declarative filter cannot say', () => {
    const wanted = 'a.md';
    const opaque: Predicate[] = [
      (d) => d.metadata.source === wanted,
      (d) => d.pageContent.includes('vitamin'),
      new Function('d', "return d.metadata.source == 'a.md'") as Predicate,
      (d) => d.metadata.name > 'm',
      (d) => d.metadata.a === 1 || (d.metadata.b === 2 && d.metadata.c === 3),
      (d) => d.metadata.a === 1 || !['x'].includes(d.metadata.b),
      (d) => d.metadata.tags.includes('x'),
      (d) => d.id === 'x',
      (d) => d.metadata.n + 1 === 2,
      (d) => (d.metadata.n === 1 ? d.metadata.m === 2 : d.metadata.m === 3),
      (d) => d.metadata['a.b'] === 1,
      async (d) => d.metadata.n === 1,
      () => true,
    ] as Predicate[];
    for (const f of opaque) expect(of(f), String(f)).toBeUndefined();
  });

  it('gives none when a candidate it judged disagrees with the recognised filter', () => {
    const f: Predicate = (d) => d.metadata.year >= 2020;
    expect(
      declarativeEquivalent(f, [
        { metadata: { year: 2021 }, passed: true },
        { metadata: {}, passed: false },
      ]),
    ).toEqual({
      must: [{ key: 'year', range: { gte: 2020 } }],
    });
    // '2021' >= 2020 in JavaScript, while a range reads numbers only; null >= 0 likewise.
    expect(declarativeEquivalent(f, [{ metadata: { year: '2021' }, passed: true }])).toBeUndefined();
    expect(declarativeEquivalent((d) => d.metadata.tag === 'x', [{ metadata: { tag: ['x'] }, passed: false }])).toBeUndefined();
  });

  it('words the advice with the equivalent, or says none was found', () => {
    expect(functionFilterAdvice({ must: [{ key: 'source', eq: 'a.md' }] })).toContain('{"must":[{"key":"source","eq":"a.md"}]}');
    expect(functionFilterAdvice(undefined)).toContain('No declarative equivalent found');
  });
});
