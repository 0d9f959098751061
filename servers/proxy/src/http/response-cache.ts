import { createHash } from 'node:crypto';

interface Entry {
  body: Buffer;
  expiresAt: number;
}

/**
 * Exact response cache for deterministic requests: non-streaming, temperature
 * 0, keyed by route and the exact request body. Least recently used entries
 * are evicted beyond `maxEntries`; entries expire after `ttlMs`.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  /** Whether a request body may be cached at all. */
  static eligible(body: Record<string, unknown>): boolean {
    return body.stream !== true && body.temperature === 0;
  }

  key(route: string, body: Record<string, unknown>): string {
    return createHash('sha256').update(route).update('\u0000').update(JSON.stringify(body)).digest('base64');
  }

  get(key: string): Buffer | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.body;
  }

  set(key: string, body: Buffer): void {
    this.entries.delete(key);
    this.entries.set(key, { body, expiresAt: Date.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}
