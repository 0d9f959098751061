// Issue 4 §3 swap-in: the MemoryVectorStore app and its ragwire twin retrieve the same top-k.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FakeListChatModel, SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { closeEmbeddedStores } from '@ragwire/client';
import { createApp as memoryApp } from './app-memory';
import { createApp as ragwireApp } from './app-ragwire';

const dir = mkdtempSync(join(tmpdir(), 'ragwire-example-langchain-'));
process.env.RAGWIRE_DATA = dir;

afterAll(async () => {
  await closeEmbeddedStores();
  rmSync(dir, { recursive: true, force: true });
});

it('answers every question from the same top-k documents, in the same order', async () => {
  const embeddings = new SyntheticEmbeddings({ vectorSize: 64 });
  const llm = () => new FakeListChatModel({ responses: ['an answer'] });
  const [before, after] = await Promise.all([memoryApp(embeddings, llm()), ragwireApp(embeddings, llm())]);
  for (const q of ['how are queries merged across shards?', 'what keeps data durable?', 'does the proxy batch?', 'exact or approximate?']) {
    const [a, b] = await Promise.all([before.ask(q), after.ask(q)]);
    expect(b.texts).toEqual(a.texts);
    expect(b.sources).toEqual(a.sources);
    expect(b.answer).toBe(a.answer);
  }
  await after.store.close();
});
