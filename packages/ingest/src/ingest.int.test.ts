// ingest() against a real embedded store in a temp dir and the real vllm-sim embeddings endpoint.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpenAIEmbeddings } from '@langchain/openai';
import { ShardedCollection, type ShardedUpsert } from '@ragwire/client';
import { RagwireVectorStore } from '@ragwire/langchain';
import type { Filter } from '@ragwire/protocol';
import { startSim, type RunningSim } from '@ragwire/vllm-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkDocument, ingestKey } from './chunks';
import { sha256Hex } from './document-file';
import { openAIEmbeddings } from './embeddings';
import { ingest } from './ingest';
import type { IngestOptions } from './options';
import { planFile } from './reconcile';
import type { IngestEvent } from './report';

const MODEL = 'ragwire/sim-embed';
const DIM = 384;

/** The real collection, counting the writes that reach it. */
class CountingCollection extends ShardedCollection {
  upserts = 0;
  deletes = 0;
  override upsert(batch: ShardedUpsert) {
    this.upserts++;
    return super.upsert(batch);
  }
  override delete(what: { ids: string[] } | { filter: Filter }) {
    this.deletes++;
    return super.delete(what);
  }
}

let sim: RunningSim;
let baseURL: string;
let root: string;
let docs: string;
let collection: CountingCollection;

function write(rel: string, content: string | Uint8Array): void {
  const file = path.join(docs, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

const paragraph = (topic: string, n: number) =>
  Array.from(
    { length: n },
    (_, i) => `The ${topic} section, paragraph ${i}: shards hold partitions of the vectors and the proxy batches embeddings calls.`,
  ).join('\n\n');

/** Ids of the documents a filter matches (exact search, k above any count here). */
async function idsMatching(c: ShardedCollection, filter: Filter): Promise<string[]> {
  const probe = new Float32Array(DIM);
  probe[0] = 1;
  const r = await c.query({ vectors: probe, k: 1000, filter, options: { exact: true, withPayload: true } });
  return r.ids;
}

function run(extra: Partial<IngestOptions> = {}) {
  const events: IngestEvent[] = [];
  const before = { upserts: collection.upserts, deletes: collection.deletes };
  const done = ingest({
    inputs: ['docs'],
    cwd: root,
    client: collection,
    chunkSize: 300,
    chunkOverlap: 30,
    embeddings: { baseURL, model: MODEL },
    onProgress: (e) => events.push(e),
    ...extra,
  });
  return done.then((report) => ({ report, events, upserts: collection.upserts - before.upserts, deletes: collection.deletes - before.deletes }));
}

beforeAll(async () => {
  sim = await startSim({ port: 0 });
  baseURL = `${sim.urls[0]}/v1`;
  root = mkdtempSync(path.join(tmpdir(), 'ragwire-ingest-'));
  docs = path.join(root, 'docs');
  write('guide.md', `# Guide\n\n${paragraph('guide', 6)}\n\n## Routing\n\n${paragraph('routing', 4)}\n`);
  write('notes.txt', paragraph('notes', 5));
  write('sub/faq.md', '# FAQ\n\nWhat is ragwire? A fast retrieval stack.\n');
  write('logo.txt', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]));
  collection = new CountingCollection({ shards: [[`embedded://${path.join(root, 'data')}`]], collection: 'docs' });
});

afterAll(async () => {
  await collection?.close();
  await sim?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('ingest into an embedded store through the vllm-sim embeddings endpoint', () => {
  let guideChunks = 0;
  let notesChunks = 0;

  it('ingests the .md and .txt files, reports the binary one and goes on', async () => {
    const { report, events } = await run();
    expect(report).toMatchObject({ collection: 'docs', files: 4, ingested: 3, skipped: 0, deleted: 0 });
    expect(report.failed).toEqual([{ source: 'docs/logo.txt', code: 'file_binary', error: expect.stringContaining('NUL byte') }]);
    expect(report.vectors).toBe(report.chunks);
    expect(report.chunks).toBeGreaterThan(6);
    expect(report.vectorsPerSecond).toBeGreaterThan(0);
    expect((await collection.describe()).count).toBe(report.chunks);
    guideChunks = (await idsMatching(collection, { must: [{ key: 'source', eq: 'docs/guide.md' }] })).length;
    notesChunks = (await idsMatching(collection, { must: [{ key: 'source', eq: 'docs/notes.txt' }] })).length;
    expect(guideChunks).toBeGreaterThan(2);
    expect(notesChunks).toBeGreaterThan(1);
    // Progress: a start, one outcome per file, writes adding up to the vectors.
    expect(events[0]).toMatchObject({ type: 'start', stats: { filesTotal: 4, filesDone: 0 } });
    const outcomes = events.filter((e) => e.type === 'file');
    expect(outcomes.map((e) => [e.source, e.outcome]).sort()).toEqual([
      ['docs/guide.md', 'ingested'],
      ['docs/logo.txt', 'failed'],
      ['docs/notes.txt', 'ingested'],
      ['docs/sub/faq.md', 'ingested'],
    ]);
    expect(outcomes.at(-1)!.stats).toMatchObject({ filesDone: 4, ingested: 3, failed: 1, chunks: report.chunks, vectors: report.vectors });
    expect(events.filter((e) => e.type === 'write').reduce((s, e) => s + (e.type === 'write' ? e.vectors : 0), 0)).toBe(report.vectors);
  });

  it('stores chunks that LangChain reads back as Documents with their metadata', async () => {
    const embeddings = new OpenAIEmbeddings({ model: MODEL, apiKey: 'unused', configuration: { baseURL } });
    const store = await RagwireVectorStore.fromExistingCollection(embeddings, { client: collection, exact: true });
    const text = readFileSync(path.join(docs, 'guide.md'), 'utf8');
    const hits = await store.similaritySearch('routing section paragraph', 50, { source: 'docs/guide.md' });
    expect(hits).toHaveLength(guideChunks);
    const indices = hits.map((d) => d.metadata.chunk as number).sort((a, b) => a - b);
    expect(indices).toEqual(Array.from({ length: guideChunks }, (_, i) => i));
    for (const d of hits) {
      expect(d.metadata).toMatchObject({ source: 'docs/guide.md', content_hash: sha256Hex(readFileSync(path.join(docs, 'guide.md'))), chunks: guideChunks });
      expect(d.metadata.ingest_key).toMatch(/^[0-9a-f]{16}$/);
      expect(text).toContain(d.pageContent);
      expect(d.pageContent.length).toBeLessThanOrEqual(300);
      const { from, to } = d.metadata.loc.lines as { from: number; to: number };
      expect(
        text
          .split('\n')
          .slice(from - 1, to)
          .join('\n'),
      ).toContain(d.pageContent.split('\n')[0]);
      expect(d.id).toBe(`docs/guide.md#${d.metadata.ingest_key}#${d.metadata.chunk}`);
    }
    // A query equal to a chunk's text finds that chunk first (the sim's embeddings are deterministic).
    const target = hits.find((d) => d.metadata.chunk === 1)!;
    const [best] = await store.similaritySearch(target.pageContent, 1);
    expect(best!.id).toBe(target.id);
  });

  it('skips every unchanged file on a re-run: nothing embedded, nothing written', async () => {
    const { report, upserts, deletes } = await run();
    expect(report).toMatchObject({ files: 4, ingested: 0, skipped: 3, vectors: 0, deleted: 0 });
    expect(report.failed.map((f) => f.source)).toEqual(['docs/logo.txt']);
    expect(upserts).toBe(0);
    expect(deletes).toBe(0);
  });

  it('replaces the chunks of a changed file: new ones in, old ones gone, the others skipped', async () => {
    const oldHash = sha256Hex(readFileSync(path.join(docs, 'notes.txt')));
    write('notes.txt', paragraph('rewritten notes', 3));
    const newHash = sha256Hex(readFileSync(path.join(docs, 'notes.txt')));
    const { report } = await run();
    expect(report).toMatchObject({ ingested: 1, skipped: 2, deleted: notesChunks });
    const now = await idsMatching(collection, { must: [{ key: 'source', eq: 'docs/notes.txt' }] });
    expect(now.length).toBe(report.vectors);
    expect(
      await idsMatching(collection, {
        must: [
          { key: 'source', eq: 'docs/notes.txt' },
          { key: 'content_hash', eq: oldHash },
        ],
      }),
    ).toEqual([]);
    expect(
      await idsMatching(collection, {
        must: [
          { key: 'source', eq: 'docs/notes.txt' },
          { key: 'content_hash', eq: newHash },
        ],
      }),
    ).toHaveLength(now.length);
  });

  it('writes again a chunk deleted out of band, and only that chunk', async () => {
    const ids = await idsMatching(collection, { must: [{ key: 'source', eq: 'docs/guide.md' }] });
    const victim = ids.find((id) => id.endsWith('#2'))!;
    await collection.delete({ ids: [victim] });
    const { report } = await run();
    expect(report).toMatchObject({ ingested: 1, skipped: 2, vectors: 1, deleted: 0 });
    expect((await idsMatching(collection, { must: [{ key: 'source', eq: 'docs/guide.md' }] })).sort()).toEqual([...ids].sort());
  });

  it('removes old chunks left by a run that died between writing a new version and deleting the old one', async () => {
    // Two leftovers of an older version, each nearer the probe than any real chunk: the first look
    // (k = chunks + 1) cannot see every current chunk, so the second look by ingest_key must.
    const leftover = new Float32Array(2 * DIM);
    leftover[0] = 1;
    leftover[DIM] = 1;
    const old = (i: number) => ({
      text: 'old text',
      metadata: { source: 'docs/guide.md', content_hash: 'old', ingest_key: '00000000deadbeef', chunk: i, chunks: 2 },
    });
    await collection.upsert({ ids: ['docs/guide.md#00000000deadbeef#0', 'docs/guide.md#00000000deadbeef#1'], vectors: leftover, payloads: [old(0), old(1)] });
    const { report, upserts } = await run();
    expect(report).toMatchObject({ ingested: 1, skipped: 2, vectors: 0, deleted: 2 });
    expect(upserts).toBe(0);
    expect(await idsMatching(collection, { must: [{ key: 'source', eq: 'docs/guide.md' }] })).toHaveLength(guideChunks);
  });

  it('re-embeds every file when the chunk size changes', async () => {
    const { report } = await run({ chunkSize: 250 });
    expect(report).toMatchObject({ ingested: 3, skipped: 0 });
    expect(report.deleted).toBeGreaterThan(0);
    expect((await collection.describe()).count).toBe(report.chunks);
    const again = await run({ chunkSize: 250 });
    expect(again.report).toMatchObject({ ingested: 0, skipped: 3, vectors: 0 });
  });

  it('removes the chunks of a file emptied since', async () => {
    write('sub/faq.md', '\n');
    const { report } = await run({ chunkSize: 250 });
    expect(report).toMatchObject({ ingested: 1, skipped: 2, deleted: 1 });
    expect(await idsMatching(collection, { must: [{ key: 'source', eq: 'docs/sub/faq.md' }] })).toEqual([]);
    unlinkSync(path.join(docs, 'sub/faq.md'));
  });

  it('reports a 0-byte file as empty, not as unchanged, and removes the chunks of its earlier version', async () => {
    write('sub/faq.md', paragraph('faq', 2));
    expect((await run({ chunkSize: 250 })).report.ingested).toBe(1);
    write('sub/faq.md', '');
    const { report } = await run({ chunkSize: 250 });
    const faq = (r: typeof report) => r.failed.filter((f) => f.source === 'docs/sub/faq.md');
    expect(faq(report)).toEqual([{ source: 'docs/sub/faq.md', code: 'file_empty', error: expect.stringContaining('old chunks (1) were removed') }]);
    expect(await idsMatching(collection, { must: [{ key: 'source', eq: 'docs/sub/faq.md' }] })).toEqual([]);
    const again = await run({ chunkSize: 250 });
    expect(faq(again.report)).toEqual([{ source: 'docs/sub/faq.md', code: 'file_empty', error: 'the file has no bytes' }]);
    expect(again.report.skipped).toBe(2);
    unlinkSync(path.join(docs, 'sub/faq.md'));
  });

  it('looks at a file with more chunks than one query returns in windows of chunk indices', async () => {
    const bytes = readFileSync(path.join(docs, 'guide.md'));
    const identity = { kind: 'markdown', chunkSize: 250, chunkOverlap: 30, model: MODEL } as const;
    const chunks = await chunkDocument({ source: 'docs/guide.md', text: bytes.toString('utf8'), contentHash: sha256Hex(bytes) }, identity);
    const key = ingestKey(sha256Hex(bytes), identity);
    expect(chunks.length).toBeGreaterThan(4);
    const plan = (maxK?: number) => planFile(collection, DIM, 'docs/guide.md', key, chunks, maxK);
    expect(await plan(3)).toEqual({ missing: [], stale: false });
    await collection.delete({ ids: [chunks[1]!.id, chunks[4]!.id] });
    expect(await plan(3)).toEqual({ missing: [1, 4], stale: false });
    expect(await plan()).toEqual({ missing: [1, 4], stale: false });
    await collection.upsert({
      ids: ['docs/guide.md#00000000deadbeef#0'],
      vectors: new Float32Array(DIM).fill(0.1),
      payloads: [{ text: 'old', metadata: { source: 'docs/guide.md', ingest_key: '00000000deadbeef', chunk: 0 } }],
    });
    expect(await plan(3)).toEqual({ missing: [1, 4], stale: true });
    expect(await plan()).toEqual({ missing: [1, 4], stale: true });
    const { report } = await run({ chunkSize: 250 });
    expect(report).toMatchObject({ ingested: 1, vectors: 2, deleted: 1 });
    expect(await plan(3)).toEqual({ missing: [], stale: false });
  });
});

describe('failures', () => {
  it('fails only the file whose chunks the embeddings endpoint refuses, even when batched with others', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ragwire-ingest-poison-'));
    try {
      for (const name of ['a', 'b', 'c']) writeFileSync(path.join(dir, `${name}.txt`), `File ${name} about vector search.`);
      writeFileSync(path.join(dir, 'poison.md'), '# Poison\n\nThis file holds a FORBIDDEN word.');
      const sdk = openAIEmbeddings({ baseURL, model: MODEL });
      const calls: number[] = [];
      // An endpoint that refuses one input, as a moderation or validation layer would.
      const embed = async (texts: string[]) => {
        calls.push(texts.length);
        if (texts.some((t) => t.includes('FORBIDDEN'))) throw new Error('input rejected: FORBIDDEN');
        return sdk(texts);
      };
      const report = await ingest({ inputs: ['.'], cwd: dir, path: path.join(dir, 'data'), collection: 'poison', embed, embeddings: { model: MODEL } });
      expect(report.failed).toEqual([{ source: 'poison.md', code: 'embeddings_failed', error: 'input rejected: FORBIDDEN' }]);
      expect(report).toMatchObject({ files: 4, ingested: 3, vectors: 3 });
      expect(calls[0]).toBe(4); // one batch for all four files, then one call per file
      expect(calls.slice(1).sort()).toEqual([1, 1, 1, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops with embeddings_unavailable when the endpoint cannot be reached at all', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'ragwire-ingest-down-'));
    try {
      writeFileSync(path.join(dir, 'a.txt'), 'some text');
      const done = ingest({
        inputs: ['.'],
        cwd: dir,
        path: path.join(dir, 'data'),
        collection: 'c',
        embeddings: { baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 },
      });
      await expect(done).rejects.toMatchObject({ name: 'IngestError', code: 'embeddings_unavailable', fatal: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops with RAGWIRE_ERR_DIM_MISMATCH when the collection holds vectors of another dimension', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ragwire-ingest-dim-'));
    const c = new ShardedCollection({ shards: [[`embedded://${path.join(dir, 'data')}`]], collection: 'small' });
    try {
      await c.createCollection({ dim: 8, metric: 'cosine', kind: 'flat', storage: 'f32' });
      writeFileSync(path.join(dir, 'a.txt'), 'some text');
      await expect(ingest({ inputs: ['a.txt'], cwd: dir, client: c, embeddings: { baseURL, model: MODEL } })).rejects.toMatchObject({
        code: 'RAGWIRE_ERR_DIM_MISMATCH',
      });
    } finally {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
