import { describe, expect, it } from 'vitest';
import { ProxyError } from '../errors';
import { augmentMessages, lastUserTurn, ragwireField, sourcesIntoFirstChunk, withSources } from './prompt';

const sources = [
  { id: 'a', score: 0.9, text: 'Alpha text.', metadata: { source: 'docs/a.md' } },
  { id: 'b', score: 0.5, text: 'Beta.', metadata: {} },
];

describe('retrieval prompt', () => {
  it('searches for the last user turn, text parts joined', () => {
    expect(
      lastUserTurn([
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'x' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'how do' },
            { type: 'text', text: 'shards merge?' },
          ],
        },
      ]),
    ).toBe('how do shards merge?');
    expect(() => lastUserTurn([{ role: 'system', content: 'only' }])).toThrow(ProxyError);
    expect(() =>
      lastUserTurn([
        { role: 'user', content: 'q' },
        { role: 'user', content: '  ' },
      ]),
    ).toThrow(/last user message/);
  });

  it('puts the numbered sources into a system message before the conversation', () => {
    const messages = augmentMessages([{ role: 'user', content: 'q?' }], 'Sources:\n{context}\nQ: {question}', sources, 'q?');
    expect(messages).toEqual([
      { role: 'system', content: 'Sources:\n[1] docs/a.md\nAlpha text.\n\n[2] b\nBeta.\nQ: q?' },
      { role: 'user', content: 'q?' },
    ]);
  });

  it('adds ragwire to a buffered answer and to the first chunk of a stream', () => {
    const field = ragwireField('docs', sources, { embedMs: 1.23456, retrieveMs: 0.5, rerankMs: undefined });
    expect(JSON.parse(field)).toEqual({ collection: 'docs', sources, timings: { embedMs: 1.235, retrieveMs: 0.5 } });
    expect(JSON.parse(withSources(Buffer.from('{"id":"c","choices":[]}'), field))).toMatchObject({ id: 'c', ragwire: { collection: 'docs' } });
    const first = sourcesIntoFirstChunk(Buffer.from('data: {"id":"c","choices":[{"delta":{"role":"assistant"}}]}\n\n'), field);
    expect(JSON.parse(first.toString().slice(6))).toMatchObject({ id: 'c', ragwire: { collection: 'docs' }, choices: [{ delta: { role: 'assistant' } }] });
    // An upstream that writes a comment first: the sources go out as a chunk of their own, before it.
    const own = sourcesIntoFirstChunk(Buffer.from(': ping\n\n'), field).toString();
    expect(own.endsWith(': ping\n\n')).toBe(true);
    expect(JSON.parse(own.split('\n\n')[0]!.slice(6))).toMatchObject({ choices: [], ragwire: { collection: 'docs' } });
  });
});
