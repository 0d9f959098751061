import { randomUUID } from 'node:crypto';
import { renderChatPrompt } from './generation';
import { SimHttpError } from './http';
import { embed, fnv1a, tokenize } from './text';

/**
 * vLLM's pooling-model and tokenizer routes, answered deterministically:
 * rerank (`/rerank`, `/v1/rerank`, `/v2/rerank`: the Jina and Cohere shapes),
 * `/score`, `/pooling`, `/classify`, `/tokenize` and `/detokenize`. Scores
 * come from the simulator's bag-of-words embeddings, so a document sharing
 * words with the query ranks above one that does not, on every run.
 */

type Body = Record<string, unknown>;

/** The labels `/classify` chooses among. */
const LABELS = ['negative', 'neutral', 'positive'] as const;

function texts(value: unknown, field: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0) {
    return value.map((v, i) => {
      if (typeof v === 'string') return v;
      if (v && typeof v === 'object' && typeof (v as { text?: unknown }).text === 'string') return (v as { text: string }).text;
      throw new SimHttpError(400, `${field}[${i}] must be a string or { text }`, 'BadRequestError', field);
    });
  }
  throw new SimHttpError(400, `${field} must be a string or a non-empty list`, 'BadRequestError', field);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

/** Relevance of `doc` to `query` in [0, 1]: the cosine of their embeddings, rescaled. */
export function relevance(query: string, doc: string, dim: number): number {
  return (1 + cosine(embed(query, dim), embed(doc, dim))) / 2;
}

const tokenCount = (list: string[]) => list.reduce((s, t) => s + tokenize(t).length, 0);
const created = () => Math.floor(Date.now() / 1000);

export function rerank(body: Body, model: string, dim: number): unknown {
  if (typeof body.query !== 'string') throw new SimHttpError(400, 'query must be a string', 'BadRequestError', 'query');
  const docs = texts(body.documents, 'documents');
  const topN = body.top_n === undefined || body.top_n === null ? docs.length : Number(body.top_n);
  if (!Number.isInteger(topN) || topN < 0) throw new SimHttpError(400, 'top_n must be an integer >= 0', 'BadRequestError', 'top_n');
  const query = body.query;
  const results = docs
    .map((text, index) => ({ index, document: { text }, relevance_score: relevance(query, text, dim) }))
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
    .slice(0, topN || docs.length);
  return { id: `rerank-${randomUUID().replaceAll('-', '')}`, model, usage: { total_tokens: tokenCount([query, ...docs]) }, results };
}

export function score(body: Body, model: string, dim: number): unknown {
  const left = texts(body.text_1 ?? body.queries, 'text_1');
  const right = texts(body.text_2 ?? body.documents ?? body.items, 'text_2');
  if (left.length !== 1 && left.length !== right.length)
    throw new SimHttpError(400, 'text_1 must be one text or as many as text_2', 'BadRequestError', 'text_1');
  const data = right.map((t, index) => ({ index, object: 'score', score: relevance(left[left.length === 1 ? 0 : index]!, t, dim) }));
  const tokens = tokenCount([...left, ...right]);
  return {
    id: `score-${randomUUID().replaceAll('-', '')}`,
    object: 'list',
    created: created(),
    model,
    data,
    usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 },
  };
}

export function pooling(body: Body, model: string, dim: number): unknown {
  const inputs = texts(body.input, 'input');
  const data = inputs.map((t, index) => ({ index, object: 'pooling', data: Array.from(embed(t, dim)) }));
  const tokens = tokenCount(inputs);
  return {
    id: `pool-${randomUUID().replaceAll('-', '')}`,
    object: 'list',
    created: created(),
    model,
    data,
    usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 },
  };
}

export function classify(body: Body, model: string): unknown {
  const inputs = texts(body.input, 'input');
  const data = inputs.map((t, index) => {
    const h = fnv1a(t.toLowerCase());
    const raw = LABELS.map((_, i) => ((h >>> (i * 8)) & 0xff) + 1);
    const sum = raw.reduce((a, b) => a + b, 0);
    const probs = raw.map((r) => r / sum);
    const best = probs.indexOf(Math.max(...probs));
    return { index, label: LABELS[best], probs, num_classes: LABELS.length };
  });
  const tokens = tokenCount(inputs);
  return {
    id: `classify-${randomUUID().replaceAll('-', '')}`,
    object: 'list',
    created: created(),
    model,
    data,
    usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 },
  };
}

/** Token ids: a 31-bit hash of each token, remembered so /detokenize can map it back. */
const byId = new Map<number, string>();
const MAX_REMEMBERED = 200_000;

export function tokenId(token: string): number {
  const id = fnv1a(token) & 0x7fffffff;
  if (byId.size < MAX_REMEMBERED) byId.set(id, token);
  return id;
}

export function tokenizeRoute(body: Body, maxModelLen: number): unknown {
  let text: string;
  if (typeof body.prompt === 'string') text = body.prompt;
  else if (Array.isArray(body.messages)) text = renderChatPrompt(body.messages as { role?: unknown; content?: unknown }[], body.tools);
  else throw new SimHttpError(400, 'prompt (a string) or messages is required', 'BadRequestError', 'prompt');
  const tokens = tokenize(text).map(tokenId);
  return { count: tokens.length, max_model_len: maxModelLen, tokens, token_strs: null };
}

export function detokenizeRoute(body: Body): unknown {
  const tokens = body.tokens;
  if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t) && t >= 0))
    throw new SimHttpError(400, 'tokens must be a list of token ids', 'BadRequestError', 'tokens');
  let prompt = '';
  for (const id of tokens as number[]) {
    const token = byId.get(id) ?? `<|${id}|>`;
    prompt += prompt.length === 0 || /^[^\w\s]$/.test(token) ? token : ` ${token}`;
  }
  return { prompt };
}
