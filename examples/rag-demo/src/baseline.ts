// The "traditional" retrieval path the A/B compares against: the same collection behind an
// HTTP/JSON search endpoint (fastify), called with fetch, vectors and payloads as JSON.
import { Document } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { BaseRetriever } from '@langchain/core/retrievers';
import type { ShardedCollection } from '@ragwire/client';
import Fastify, { type FastifyInstance } from 'fastify';

export interface SearchHit {
  id: string;
  score: number;
  text: string;
  metadata: Record<string, unknown>;
}

/** Starts `POST /search {vector, k}` -> `{hits}` on 127.0.0.1; resolves with its URL. */
export async function startJsonSearchService(collection: ShardedCollection): Promise<{ url: string; close(): Promise<void> }> {
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });
  app.post<{ Body: { vector?: unknown; k?: unknown } }>('/search', async (request, reply) => {
    const { vector, k } = request.body ?? {};
    if (
      !Array.isArray(vector) ||
      vector.length === 0 ||
      !vector.every((x) => typeof x === 'number') ||
      !Number.isInteger(k) ||
      (k as number) < 1 ||
      (k as number) > 1024
    ) {
      return reply.code(400).send({ error: 'body must be {"vector": number[], "k": 1..1024}' });
    }
    const result = await collection.query({ vectors: Float32Array.from(vector as number[]), k: k as number, options: { withPayload: true } });
    const hits: SearchHit[] = result.ids.map((id, i) => ({
      id,
      score: result.scores[i]!,
      text: result.payloads?.[i]?.text ?? '',
      metadata: result.payloads?.[i]?.metadata ?? {},
    }));
    return { hits };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}

/** A LangChain retriever over the JSON search service: embed, POST, parse. */
export class JsonSearchRetriever extends BaseRetriever {
  lc_namespace = ['ragwire', 'demo', 'retrievers'];

  constructor(
    private readonly searchUrl: string,
    private readonly embeddings: EmbeddingsInterface,
    private readonly k: number,
  ) {
    super();
  }

  override async _getRelevantDocuments(query: string): Promise<Document[]> {
    const vector = await this.embeddings.embedQuery(query);
    const response = await fetch(`${this.searchUrl}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vector, k: this.k }),
    });
    if (!response.ok) throw new Error(`search service answered ${response.status}: ${await response.text()}`);
    const { hits } = (await response.json()) as { hits: SearchHit[] };
    return hits.map((h) => new Document({ id: h.id, pageContent: h.text, metadata: h.metadata }));
  }
}
