// LlamaIndex HYBRID (alpha), SEMANTIC_HYBRID and SPARSE modes, text_match and negations inside OR,
// on a real embedded store (default HNSW index) with real LlamaIndex nodes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseEmbedding } from '@llamaindex/core/embeddings';
import { MetadataMode, TextNode } from '@llamaindex/core/schema';
import { VectorStoreQueryMode, type MetadataFilters } from '@llamaindex/core/vector-store';
import { closeEmbeddedStores } from '@ragwire/client';
import { planFilters } from './residual-filter';
import { RagwireVectorStore } from './vector-store';

/** Queries here carry their embeddings; the store only needs a model to exist. */
class UnusedEmbedding extends BaseEmbedding {
  constructor() {
    super();
  }
  async getTextEmbedding(): Promise<number[]> {
    return [0, 0, 0, 1];
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ragwire-llamaindex-hybrid-'));
let store: RagwireVectorStore;
const TEXTS = [
  'Vitamin B12 deficiency raises homocysteine in the blood',
  'Running every day improves the heart',
  'Folate lowers homocysteine',
  'Stem cells differentiate into neurons',
  'Cyclists train their hearts on long rides',
  'Deficiencies of vitamins are common in old age',
];
const TOPICS = ['nutrition', 'sport', 'nutrition', 'biology', 'sport', 'nutrition'];
// Embeddings that carry no meaning: only the text side can find words.
const embedding = (i: number) => [Math.cos(i * 1.7), Math.sin(i * 1.7), Math.cos(i * 0.3), 1];

beforeAll(async () => {
  store = new RagwireVectorStore({ path: dir, collection: 'hybrid', embedModel: new UnusedEmbedding(), text: { language: 'en', k1: 0.9, b: 0.4 } });
  await store.add(TEXTS.map((text, i) => new TextNode({ id_: `n${i}`, text, metadata: { i, topic: TOPICS[i], source: `s${i}.md` }, embedding: embedding(i) })));
});

afterAll(async () => {
  await store?.close();
  await closeEmbeddedStores();
  rmSync(dir, { recursive: true, force: true });
});

const base = { queryEmbedding: embedding(9), similarityTopK: 2 };

describe('RagwireVectorStore query modes (LlamaIndex)', () => {
  it('SPARSE ranks by BM25 of queryStr alone', async () => {
    const r = await store.query({ ...base, queryStr: 'homocysteine folate', mode: VectorStoreQueryMode.SPARSE });
    expect(r.ids).toEqual(['n2', 'n0']);
    expect(r.nodes![0]!.getContent(MetadataMode.NONE)).toBe(TEXTS[2]);
  });

  it('HYBRID weighs dense by alpha (0: text only, 1: dense only); SEMANTIC_HYBRID fuses by RRF', async () => {
    const text = await store.query({ ...base, queryStr: 'homocysteine folate', mode: VectorStoreQueryMode.HYBRID, alpha: 0 });
    expect(text.ids[0]).toBe('n2');
    const dense = await store.query({ ...base, queryStr: 'homocysteine folate', mode: VectorStoreQueryMode.HYBRID, alpha: 1 });
    const plain = await store.query({ ...base, mode: VectorStoreQueryMode.DEFAULT });
    expect(dense.ids[0]).toBe(plain.ids[0]);
    const rrf = await store.query({ ...base, similarityTopK: 6, queryStr: 'homocysteine folate', mode: VectorStoreQueryMode.SEMANTIC_HYBRID });
    expect(rrf.ids.slice(0, 2)).toContain('n2');
    await expect(store.query({ ...base, mode: VectorStoreQueryMode.HYBRID })).rejects.toMatchObject({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT' });
  });

  it('filters by text_match (a substring of a metadata string, or of the text for key "text")', async () => {
    const filters: MetadataFilters = { filters: [{ key: 'text', value: 'HEART', operator: 'text_match' }] };
    const r = await store.query({ ...base, similarityTopK: 6, filters, mode: VectorStoreQueryMode.DEFAULT });
    expect(r.ids.sort()).toEqual(['n1', 'n4']);
    const onMeta = await store.query({
      ...base,
      similarityTopK: 6,
      mode: VectorStoreQueryMode.DEFAULT,
      filters: {
        filters: [
          { key: 'source', value: '3.md', operator: 'text_match' },
          { key: 'i', value: 2, operator: '>' },
        ],
      },
    });
    expect(onMeta.ids).toEqual(['n3']);
  });

  it('accepts negations inside OR, evaluated on candidates', async () => {
    const filters: MetadataFilters = {
      condition: 'or',
      filters: [
        { key: 'topic', value: 'nutrition', operator: '!=' },
        { key: 'i', value: 0, operator: '==' },
      ],
    };
    const r = await store.query({ ...base, similarityTopK: 6, filters, mode: VectorStoreQueryMode.DEFAULT });
    expect(r.ids.sort()).toEqual(['n0', 'n1', 'n3', 'n4']);
    // Declarative where it can be: the index runs it.
    expect(planFilters({ filters: [{ key: 'topic', value: 'sport', operator: '==' }] }).predicate).toBeUndefined();
    expect(planFilters(filters).predicate).toBeDefined();
  });
});
