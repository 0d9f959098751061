// The "traditional" path: HTTP/JSON to every shard's search endpoint, JSON parse, merge by sorting.
import { Pool } from 'undici';
import type { Payload } from '@ragwire/protocol';

export interface JsonHit {
  id: string;
  score: number;
  payload?: Payload | null;
}

export interface JsonQuery {
  vector: number[];
  k: number;
  withPayload?: boolean;
  efSearch?: number;
  exact?: boolean;
}

export type HttpClientKind = 'undici' | 'fetch';

/** Fans one query out to every shard over HTTP/JSON and merges the hits, as an application would. */
export class HttpFanout {
  private readonly pools: Pool[];

  constructor(
    private readonly urls: string[],
    private readonly collection: string,
    private readonly kind: HttpClientKind,
    connections = 128,
  ) {
    this.pools = kind === 'undici' ? urls.map((u) => new Pool(u, { connections, pipelining: 1, keepAliveTimeout: 60_000 })) : [];
  }

  async query(q: JsonQuery): Promise<JsonHit[]> {
    const body = JSON.stringify(q);
    const path = `/collections/${this.collection}/query`;
    const replies = await Promise.all(
      this.urls.map(async (url, i) => {
        if (this.kind === 'undici') {
          const res = await this.pools[i]!.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body });
          if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${await res.body.text()}`);
          return ((await res.body.json()) as { hits: JsonHit[] }).hits;
        }
        const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
        return ((await res.json()) as { hits: JsonHit[] }).hits;
      }),
    );
    return replies
      .flat()
      .sort((a, b) => b.score - a.score)
      .slice(0, q.k);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }
}
