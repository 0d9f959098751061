/**
 * Deterministic stand-ins for a model: a word-level tokenizer, generated text
 * seeded by the prompt, and bag-of-words embeddings. Same input, same output,
 * on every run and every replica.
 */
import { Prng } from '@ragwire/protocol';

/** Splits text into tokens: words and single punctuation marks. */
export function tokenize(text: string): string[] {
  return text.match(/\w+|[^\w\s]/g) ?? [];
}

/** 32-bit FNV-1a, chainable through `seed`. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Uniform floats in (0, 1) from the repository's seeded Prng. */
export function prng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.nextFloat();
}

const VOCABULARY = (
  'the a of to and in is that for it as with on by this be are from at or an was which ' +
  'retrieval vector index query document context answer model token cache batch shard ' +
  'search latency throughput memory result score nearest embedding prompt server request ' +
  'stream replica prefix queue limit data store graph layer engine recall precision system ' +
  'fast small large first next each every both more less same other new old useful simple'
).split(' ');

/** The tokens a completion of `prompt` would produce, `count` of them, choice `choice`. */
export function generateTokens(prompt: string, count: number, choice = 0, seed = 0): string[] {
  const next = prng(fnv1a(prompt, fnv1a(`${seed}:${choice}`)));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = VOCABULARY[Math.floor(next() * VOCABULARY.length)]!;
    out.push(i === 0 ? word[0]!.toUpperCase() + word.slice(1) : ` ${word}`);
  }
  if (count > 0) out[count - 1] += '.';
  return out;
}

/** How many tokens the model "wants" to emit for this prompt before its end-of-sequence, 16..128. */
export function naturalLength(prompt: string, choice = 0, seed = 0): number {
  return 16 + (fnv1a(prompt, fnv1a(`len:${seed}:${choice}`)) % 113);
}

const tokenVectors = new Map<string, Float32Array>();
const TOKEN_VECTOR_CACHE_LIMIT = 50_000;

function tokenVector(token: string, dim: number): Float32Array {
  const key = `${dim}:${token}`;
  let v = tokenVectors.get(key);
  if (v) return v;
  v = new Float32Array(dim);
  const next = prng(fnv1a(token));
  for (let i = 0; i < dim; i++) v[i] = next() * 2 - 1;
  if (tokenVectors.size >= TOKEN_VECTOR_CACHE_LIMIT) tokenVectors.clear();
  tokenVectors.set(key, v);
  return v;
}

/**
 * A unit-length embedding: the normalised sum of one pseudo-random vector per
 * (lower-cased) token, so texts sharing words have a positive cosine similarity.
 */
export function embed(text: string, dim: number): Float32Array {
  const out = new Float32Array(dim);
  const tokens = tokenize(text.toLowerCase());
  if (tokens.length === 0) tokens.push('');
  for (const token of tokens) {
    const v = tokenVector(token, dim);
    for (let i = 0; i < dim; i++) out[i]! += v[i]!;
  }
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += out[i]! * out[i]!;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dim; i++) out[i]! /= norm;
  return out;
}

/** float32 little-endian bytes as base64, as OpenAI and vLLM send `encoding_format: "base64"`. */
export function float32ToBase64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}
