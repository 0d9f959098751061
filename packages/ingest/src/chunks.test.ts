import { createHash } from 'node:crypto';
import { MarkdownTextSplitter, RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { describe, expect, it } from 'vitest';
import { chunkDocument, chunkId, chunkPayload, ingestKey, type ChunkingIdentity } from './chunks';

const hash = (s: string) => createHash('sha256').update(s).digest('hex');
const md: ChunkingIdentity = { kind: 'markdown', chunkSize: 120, chunkOverlap: 20, model: 'm' };

const markdown = [
  '# Ragwire',
  '',
  'Ragwire makes an existing RAG application fast without rewriting it.',
  '',
  '## Shards',
  '',
  'Shard servers hold partitions of the vectors and answer over a binary protocol.',
  '',
  '## Proxy',
  '',
  'The proxy speaks the OpenAI API in front of one or more vLLM servers.',
  '',
].join('\n');

describe('chunkDocument', () => {
  it('gives every chunk a stable id and the metadata layout: source, content_hash, ingest_key, chunk, chunks, loc', async () => {
    const file = { source: 'docs/readme.md', text: markdown, contentHash: hash(markdown) };
    const chunks = await chunkDocument(file, md);
    expect(chunks.length).toBeGreaterThan(1);
    const key = ingestKey(file.contentHash, md);
    chunks.forEach((c, i) => {
      expect(c.id).toBe(`docs/readme.md#${key}#${i}`);
      expect(c.metadata).toEqual({
        source: 'docs/readme.md',
        content_hash: file.contentHash,
        ingest_key: key,
        chunk: i,
        chunks: chunks.length,
        loc: { lines: { from: expect.any(Number), to: expect.any(Number) } },
      });
      expect(c.text.length).toBeLessThanOrEqual(120);
      expect(markdown).toContain(c.text);
      // loc.lines points at the lines the chunk came from (1-based, inclusive).
      const lines = markdown
        .split('\n')
        .slice(c.metadata.loc.lines.from - 1, c.metadata.loc.lines.to)
        .join('\n');
      expect(lines).toContain(c.text.split('\n')[0]);
    });
    expect(await chunkDocument(file, md)).toEqual(chunks);
  });

  it("splits .md with LangChain's MarkdownTextSplitter and .txt with its RecursiveCharacterTextSplitter", async () => {
    const text = `${markdown}\n${'A plain paragraph of several words that runs on. '.repeat(6)}\n---\n\n* item one\n* item two\n`;
    const file = { source: 'a.md', text, contentHash: hash(text) };
    const fields = { chunkSize: md.chunkSize, chunkOverlap: md.chunkOverlap };
    const mdChunks = await chunkDocument(file, md);
    expect(mdChunks.map((c) => c.text)).toEqual(await new MarkdownTextSplitter(fields).splitText(text));
    const txtChunks = await chunkDocument({ ...file, source: 'a.txt' }, { ...md, kind: 'text' });
    expect(txtChunks.map((c) => c.text)).toEqual(await new RecursiveCharacterTextSplitter(fields).splitText(text));
    expect(txtChunks.map((c) => c.text)).not.toEqual(mdChunks.map((c) => c.text));
  });

  it('has no chunks for empty or whitespace-only text', async () => {
    expect(await chunkDocument({ source: 'e.txt', text: ' \n\n\t\n', contentHash: hash('') }, { ...md, kind: 'text' })).toEqual([]);
  });

  it('stores { text, metadata }: the payload @ragwire/langchain reads back as pageContent and metadata', async () => {
    const [c] = await chunkDocument({ source: 's.txt', text: 'one short text', contentHash: hash('x') }, { ...md, kind: 'text' });
    expect(chunkPayload(c!)).toEqual({ text: 'one short text', metadata: c!.metadata });
  });
});

describe('ingestKey', () => {
  it('changes with the content, the kind, the chunk size, the overlap and the model; nothing else', () => {
    const base = ingestKey(hash('a'), md);
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(ingestKey(hash('a'), { ...md })).toBe(base);
    for (const other of [
      ingestKey(hash('b'), md),
      ingestKey(hash('a'), { ...md, kind: 'text' }),
      ingestKey(hash('a'), { ...md, chunkSize: 121 }),
      ingestKey(hash('a'), { ...md, chunkOverlap: 21 }),
      ingestKey(hash('a'), { ...md, model: 'n' }),
      ingestKey(hash('a'), { ...md, model: undefined }),
    ])
      expect(other).not.toBe(base);
  });
});

describe('chunkId', () => {
  it('is source#key#index, and stays within the 512-byte id limit for very long paths', () => {
    expect(chunkId('a/b.md', '0123456789abcdef', 7)).toBe('a/b.md#0123456789abcdef#7');
    const long = 'd/'.repeat(300) + 'x.md';
    const id = chunkId(long, '0123456789abcdef', 3);
    expect(Buffer.byteLength(id)).toBeLessThanOrEqual(512);
    expect(id).toBe(`sha256:${hash(long)}#0123456789abcdef#3`);
  });
});
