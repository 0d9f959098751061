// Issue 4 §3 swap-in: the SimpleVectorStore app and its ragwire twin retrieve the same top-k.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BaseEmbedding } from '@llamaindex/core/embeddings';
import { MockLLM } from '@llamaindex/core/llms/mock';
import { Settings } from 'llamaindex';
import { closeEmbeddedStores } from '@ragwire/client';
import { createApp as simpleApp } from './app-simple';
import { createApp as ragwireApp } from './app-ragwire';

/** A deterministic embedding: character-trigram counts hashed into 64 buckets. */
class TrigramEmbedding extends BaseEmbedding {
  constructor() {
    super();
  }
  async getTextEmbedding(text: string): Promise<number[]> {
    const v = new Array<number>(64).fill(0);
    const t = ` ${text.toLowerCase()} `;
    for (let i = 0; i + 3 <= t.length; i++) {
      let h = 7;
      for (let j = i; j < i + 3; j++) h = (h * 31 + t.charCodeAt(j)) >>> 0;
      v[h % 64]! += 1;
    }
    return v;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ragwire-example-llamaindex-'));

beforeAll(() => {
  process.env.RAGWIRE_DATA = dir;
  Settings.embedModel = new TrigramEmbedding();
  Settings.llm = new MockLLM({ responseMessage: 'an answer' });
});

afterAll(async () => {
  await closeEmbeddedStores();
  rmSync(dir, { recursive: true, force: true });
});

it('answers every question from the same top-k nodes, in the same order', async () => {
  const before = await simpleApp();
  const after = await ragwireApp();
  for (const q of ['how are queries merged across shards?', 'what keeps data durable?', 'does the proxy batch?', 'exact or approximate?']) {
    const a = await before.ask(q);
    const b = await after.ask(q);
    expect(b.texts).toEqual(a.texts);
    expect(b.sources).toEqual(a.sources);
    expect(b.answer).toBe(a.answer);
  }
  await after.vectorStore.close();
});
