import { ProxyError } from '../errors';
import type { EmbeddingInput } from '../batching/embeddings-batcher';

/**
 * Request checks done before anything is queued, so a malformed request costs
 * no upstream work and gets a 400 naming the offending field (`param`), as
 * OpenAI answers. Fields the proxy does not read are passed through unchecked:
 * the upstream owns them.
 */

type Body = Record<string, unknown>;

function bad(param: string, message: string): never {
  throw new ProxyError('invalid_request', message, param);
}

export function asBody(value: unknown): Body {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('body', 'the request body must be a JSON object');
  return value as Body;
}

function optionalBoolean(body: Body, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') bad(field, `${field} must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function optionalNumber(body: Body, field: string, min: number, max: number, integer: boolean): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    bad(field, `${field} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function model(body: Body): string {
  const m = body.model;
  if (typeof m !== 'string' || m.length === 0) bad('model', `model must be a non-empty string, got ${JSON.stringify(m)}`);
  return m;
}

/** The fields the proxy itself acts on. */
export interface GenerationRequest {
  model: string;
  stream: boolean;
  /** Prompt text for prefix affinity. */
  prefixText: string;
  priority: number | undefined;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  return '';
}

function common(body: Body): Omit<GenerationRequest, 'prefixText'> {
  optionalNumber(body, 'n', 1, 128, true);
  optionalNumber(body, 'max_tokens', 0, Number.MAX_SAFE_INTEGER, true);
  optionalNumber(body, 'max_completion_tokens', 0, Number.MAX_SAFE_INTEGER, true);
  optionalNumber(body, 'temperature', 0, 2, false);
  optionalNumber(body, 'top_p', 0, 1, false);
  const so = body.stream_options;
  if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so))) bad('stream_options', 'stream_options must be an object');
  return {
    model: model(body),
    stream: optionalBoolean(body, 'stream') ?? false,
    priority: optionalNumber(body, 'priority', -1e6, 1e6, true),
  };
}

export function validateChat(body: Body): GenerationRequest {
  const base = common(body);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) bad('messages', 'messages must be a non-empty array');
  let prefixText = '';
  messages.forEach((m, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) bad(`messages[${i}]`, `messages[${i}] must be an object`);
    const role = (m as Body).role;
    if (typeof role !== 'string') bad(`messages[${i}].role`, `messages[${i}].role must be a string`);
    prefixText += `${role}\n${contentText((m as Body).content)}\n`;
  });
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) bad('tools', 'tools must be an array');
  return { ...base, prefixText };
}

export function validateCompletion(body: Body): GenerationRequest & { prompts: string[] | undefined } {
  const base = common(body);
  const p = body.prompt;
  const isTokens = (x: unknown) => Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === 'number');
  let prompts: string[] | undefined;
  if (typeof p === 'string') prompts = [p];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) prompts = p as string[];
  else if (!(isTokens(p) || (Array.isArray(p) && p.length > 0 && p.every(isTokens))))
    bad('prompt', 'prompt must be a string, a non-empty array of strings, or token ids');
  return { ...base, prefixText: prompts?.[0] ?? '', prompts };
}

export interface EmbeddingsRequestInfo {
  model: string;
  inputs: EmbeddingInput[];
  format: 'float' | 'base64';
  dimensions: number | undefined;
  priority: number | undefined;
}

export function validateEmbeddings(body: Body): EmbeddingsRequestInfo {
  const m = model(body);
  const input = body.input;
  const isTokens = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === 'number' && Number.isInteger(t));
  let inputs: EmbeddingInput[];
  if (typeof input === 'string') inputs = [input];
  else if (isTokens(input)) inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')) inputs = input as string[];
  else if (Array.isArray(input) && input.length > 0 && input.every(isTokens)) inputs = input as number[][];
  else bad('input', 'input must be a string, a non-empty array of strings, or token ids');
  if (inputs.some((x) => typeof x === 'string' && x.length === 0)) bad('input', 'input must not contain empty strings');
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') bad('encoding_format', `encoding_format must be "float" or "base64", got ${JSON.stringify(format)}`);
  return {
    model: m,
    inputs,
    format,
    dimensions: optionalNumber(body, 'dimensions', 1, 65536, true),
    priority: optionalNumber(body, 'priority', -1e6, 1e6, true),
  };
}
