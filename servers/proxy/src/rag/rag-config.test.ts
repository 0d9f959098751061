import { describe, expect, it } from 'vitest';
import { ConfigError, resolveProxyConfig } from '../config';

const base = { upstreams: ['http://127.0.0.1:8000'] };
const docs = { path: '/tmp/docs', embeddingModel: 'e' };

describe('rag configuration', () => {
  it('takes collections and aliases by name and fills the defaults', () => {
    const c = resolveProxyConfig({
      ...base,
      rag: { collections: { docs }, aliases: { 'rag/m': { model: 'm', collection: 'docs', k: 3, filter: { must: [{ key: 'lang', eq: 'en' }] } } } },
    });
    expect(c.rag.aliases['rag/m']).toMatchObject({ model: 'm', collection: 'docs', k: 3 });
    expect(c.rag.defaultK).toBe(4);
    expect(Object.isFrozen(c.rag.collections.docs)).toBe(true);
  });

  it.each([
    [{ collections: { docs: { embeddingModel: 'e' } } }, 'rag.collections["docs"]'],
    [{ collections: { docs: { ...docs, shards: [['tcp://x']] } } }, 'rag.collections["docs"]'],
    [{ collections: { docs: { ...docs, typo: 1 } } }, 'rag.collections["docs"].typo'],
    [{ collections: { docs }, aliases: { 'rag/m': { model: 'm', collection: 'other' } } }, 'rag.aliases["rag/m"].collection'],
    [{ collections: { docs }, aliases: { 'rag/m': { model: 'm', collection: 'docs', k: 100 } } }, 'rag.aliases["rag/m"].k'],
    [{ collections: { docs }, aliases: { 'rag/m': { model: 'm', collection: 'docs', filter: { must: 'x' } } } }, 'rag.aliases["rag/m"].filter'],
    [{ collections: { docs }, aliases: { 'rag/m': { model: 'm', collection: 'docs', template: 'no slot' } } }, 'rag.aliases["rag/m"].template'],
    [{ maxK: 0 }, 'rag.maxK'],
  ])('refuses %j at start, naming %s', (rag, field) => {
    let error: unknown;
    try {
      resolveProxyConfig({ ...base, rag } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });
});
