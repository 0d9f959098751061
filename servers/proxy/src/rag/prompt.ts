import { ProxyError } from '../errors';
import type { RagSource } from './retriever';

// The prompt side of retrieval: which text is retrieved for, how the sources
// enter the conversation, and how they ride back on the answer.

type Message = Record<string, unknown>;

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join(' ');
  return '';
}

/** The text of the last user turn: what the retrieval searches for. */
export function lastUserTurn(messages: readonly unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Message;
    if (m.role !== 'user') continue;
    const text = contentText(m.content).trim();
    if (text.length > 0) return text;
    break;
  }
  throw new ProxyError('invalid_request', 'a retrieval needs a last user message with text to search for', 'messages');
}

/** The sources as the template's `{context}`: numbered, each with its id, then its text. */
export function renderContext(sources: readonly RagSource[]): string {
  return sources.map((s, i) => `[${i + 1}] ${String(s.metadata.source ?? s.id)}\n${s.text}`).join('\n\n');
}

/**
 * The conversation the model sees: a system message made from `template`
 * (`{context}` the sources, `{question}` the last user turn) before the
 * client's own messages, which are left as they were.
 */
export function augmentMessages(messages: readonly unknown[], template: string, sources: readonly RagSource[], question: string): unknown[] {
  const system = template.replaceAll('{context}', renderContext(sources)).replaceAll('{question}', question);
  return [{ role: 'system', content: system }, ...messages];
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** What an answer carries back: `ragwire: { collection, sources, timings }`, in a buffered answer's body or a stream's first chunk. */
export function ragwireField(collection: string, sources: readonly RagSource[], timings: Record<string, number | undefined>): string {
  const ms: Record<string, number> = {};
  for (const [stage, v] of Object.entries(timings)) if (v !== undefined) ms[stage] = round(v);
  return JSON.stringify({ collection, sources, timings: ms });
}

/** A buffered chat completion (JSON) with `ragwire` added. */
export function withSources(body: Buffer, field: string): string {
  const text = body.toString('utf8');
  const open = text.indexOf('{');
  if (open < 0) return text;
  return `${text.slice(0, open + 1)}"ragwire":${field},${text.slice(open + 1)}`;
}

const FIRST_EVENT = Buffer.from('data: {');

/**
 * A stream's first bytes with `ragwire` added to its first chunk (as the first
 * field of its JSON object). When the first bytes hold no chunk (an upstream
 * that writes comments first), the sources go out as a chunk of their own,
 * with no choices, before them.
 */
export function sourcesIntoFirstChunk(first: Buffer, field: string): Buffer {
  const at = first.indexOf(FIRST_EVENT);
  if (at < 0) return Buffer.concat([Buffer.from(`data: {"object":"chat.completion.chunk","choices":[],"ragwire":${field}}\n\n`), first]);
  const cut = at + FIRST_EVENT.length;
  return Buffer.concat([first.subarray(0, cut), Buffer.from(`"ragwire":${field},`), first.subarray(cut)]);
}
