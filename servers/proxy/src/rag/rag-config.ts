import { validateFilter, type Filter } from '@ragwire/protocol';

/**
 * Retrieval inside the proxy: the collections it may retrieve from and the
 * model aliases bound to one. Part of ProxyConfig (`rag`), validated with it
 * at start-up, the offending field named.
 */

/** Where a collection's vectors live, and the model that embeds its queries. */
export interface RagCollectionConfig {
  /** Embedded store: a data directory opened in the proxy's process. Exactly one of `path` and `shards`. */
  path?: string;
  /** Shard servers: one entry per shard, each the URLs of its replicas (`tcp://`, `unix://`, `ucx://`). */
  shards?: string[][];
  /** The collection's name on the store; default: the name it is configured under. */
  collection?: string;
  /** Bearer token for the shard servers. */
  token?: string;
  /** Embeds the last user turn; must be the model the collection was embedded with. */
  embeddingModel: string;
}

/** A rerank step: the top `topN` of the retrieved sources by a reranker served upstream (`/v1/rerank`). */
export interface RagRerankConfig {
  model: string;
  /** Sources kept after reranking; default: all of them, reordered. */
  topN?: number;
}

/** One retrieval: what a model alias is bound to, or what a request's `ragwire` field asks for. */
export interface RagBinding {
  /** The chat model that answers. */
  model: string;
  /** A configured collection name (a key of `rag.collections`). */
  collection: string;
  /** Sources retrieved; default `rag.defaultK`. */
  k?: number;
  filter?: Filter;
  rerank?: RagRerankConfig;
  /** The system message that carries the sources: `{context}` is replaced by them, `{question}` by the last user turn. */
  template?: string;
}

export interface RagConfig {
  /** Collections requests may name, by name. */
  collections: Record<string, RagCollectionConfig>;
  /** Model names bound to a retrieval, such as `rag/<model>`; listed by /v1/models. */
  aliases: Record<string, RagBinding>;
  /** k when neither the alias nor the request says. */
  defaultK: number; // 4 sources
  /** Largest k a request may ask for. */
  maxK: number; // 64 sources
  /** Longest retrieval (every shard) before the request fails with `retrieval_failed`. */
  timeoutMs: number; // 5000 ms
}

export const DEFAULT_RAG_TEMPLATE = 'Answer the question from the sources below. Cite the sources you use by their number, like [1].\n\nSources:\n{context}';

export const defaultRagConfig: RagConfig = { collections: {}, aliases: {}, defaultK: 4, maxK: 64, timeoutMs: 5_000 };

/** A rag setting is wrong; `field` names it (`rag.aliases["rag/x"].k`) and `message` says how. */
export class RagSettingError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly kind: 'invalid' | 'filter' | 'collection' = 'invalid',
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function only(value: Record<string, unknown>, fields: readonly string[], at: string): void {
  for (const f of Object.keys(value)) if (!fields.includes(f)) throw new RagSettingError(`${at}.${f}`, `${at}.${f} is not a field (${fields.join(', ')})`);
}

function positiveInt(value: unknown, at: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw new RagSettingError(at, `${at} must be an integer in [1, ${max}], got ${JSON.stringify(value)}`);
  return value;
}

function nonEmpty(value: unknown, at: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new RagSettingError(at, `${at} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

/** Validates a collection entry. */
export function checkRagCollection(value: unknown, at: string): RagCollectionConfig {
  if (!isObject(value)) throw new RagSettingError(at, `${at} must be an object`);
  only(value, ['path', 'shards', 'collection', 'token', 'embeddingModel'], at);
  const given = ['path', 'shards'].filter((f) => value[f] !== undefined);
  if (given.length !== 1) throw new RagSettingError(at, `${at} needs exactly one of path (embedded) or shards (shard servers)`);
  const out: RagCollectionConfig = { embeddingModel: nonEmpty(value.embeddingModel, `${at}.embeddingModel`) };
  if (value.path !== undefined) out.path = nonEmpty(value.path, `${at}.path`);
  if (value.shards !== undefined) {
    const shards = value.shards;
    if (
      !Array.isArray(shards) ||
      shards.length === 0 ||
      !shards.every((s) => Array.isArray(s) && s.length > 0 && s.every((u) => typeof u === 'string' && u.length > 0))
    ) {
      throw new RagSettingError(`${at}.shards`, `${at}.shards must be a non-empty list of non-empty lists of replica URLs`);
    }
    out.shards = shards as string[][];
  }
  if (value.collection !== undefined) out.collection = nonEmpty(value.collection, `${at}.collection`);
  if (value.token !== undefined) out.token = nonEmpty(value.token, `${at}.token`);
  return out;
}

/**
 * Validates a binding (an alias, or a request's `ragwire` field when
 * `partial`: model and collection may then come from the alias). Collection
 * names are checked against `collections`; `maxK` bounds k.
 */
export function checkRagBinding(
  value: unknown,
  at: string,
  collections: Readonly<Record<string, unknown>>,
  maxK: number,
  partial = false,
): Partial<RagBinding> {
  if (!isObject(value)) throw new RagSettingError(at, `${at} must be an object`);
  only(value, partial ? ['collection', 'k', 'filter', 'rerank', 'template'] : ['model', 'collection', 'k', 'filter', 'rerank', 'template'], at);
  const out: Partial<RagBinding> = {};
  if (!partial) out.model = nonEmpty(value.model, `${at}.model`);
  if (value.collection !== undefined || !partial) {
    const name = nonEmpty(value.collection, `${at}.collection`);
    if (!Object.hasOwn(collections, name)) {
      const known = Object.keys(collections);
      throw new RagSettingError(
        `${at}.collection`,
        `unknown collection "${name}" (${known.length > 0 ? `configured: ${known.join(', ')}` : 'this proxy has no collections configured'})`,
        'collection',
      );
    }
    out.collection = name;
  }
  if (value.k !== undefined) out.k = positiveInt(value.k, `${at}.k`, maxK);
  if (value.filter !== undefined) {
    try {
      out.filter = validateFilter(value.filter);
    } catch (error) {
      throw new RagSettingError(`${at}.filter`, `${at}.filter: ${(error as Error).message}`, 'filter');
    }
  }
  if (value.rerank !== undefined) {
    const r = value.rerank;
    if (!isObject(r)) throw new RagSettingError(`${at}.rerank`, `${at}.rerank must be an object { model, topN? }`);
    only(r, ['model', 'topN'], `${at}.rerank`);
    out.rerank = { model: nonEmpty(r.model, `${at}.rerank.model`) };
    if (r.topN !== undefined) out.rerank.topN = positiveInt(r.topN, `${at}.rerank.topN`, maxK);
  }
  if (value.template !== undefined) {
    const t = nonEmpty(value.template, `${at}.template`);
    if (!t.includes('{context}')) throw new RagSettingError(`${at}.template`, `${at}.template must contain {context}, where the sources go`);
    out.template = t;
  }
  return out;
}

/** Validates the entries of the `rag` section and defaultK <= maxK (the rest is checked by the config schema, defaults merged in). */
export function checkRagConfig(rag: RagConfig): RagConfig {
  const { maxK } = rag;
  positiveInt(rag.defaultK, 'rag.defaultK', maxK);
  const collections: Record<string, RagCollectionConfig> = {};
  for (const [name, c] of Object.entries(rag.collections)) collections[name] = checkRagCollection(c, `rag.collections["${name}"]`);
  const aliases: Record<string, RagBinding> = {};
  for (const [name, a] of Object.entries(rag.aliases)) aliases[name] = checkRagBinding(a, `rag.aliases["${name}"]`, collections, maxK) as RagBinding;
  return { ...rag, collections, aliases };
}
