import { once } from 'node:events';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Cancellation } from '../upstream/cancellation';
import { ProxyError } from '../errors';
import type { StreamingAnswer } from '../upstream/upstream-call';
import { usageTokens } from './token-budget';

const DONE = /data: \[DONE\]\s*$/;
/** Enough of a stream's end to hold its usage chunk (or a Responses stream's final event's usage). */
const USAGE_TAIL_CHARS = 8192;

/**
 * Relays an upstream SSE stream to the client chunk by chunk, bytes
 * untouched (tool-call deltas and the usage chunk included). The stream must
 * end with `data: [DONE]`; when the upstream fails or ends early, the client
 * gets an `error` event in OpenAI's shape instead, never a clean-looking end.
 * Resolves when the client response is finished; `onEnd` learns the outcome.
 */
export async function relayStream(
  raw: ServerResponse,
  answer: StreamingAnswer,
  headers: OutgoingHttpHeaders,
  cancellation: Cancellation,
  /**
   * For streams that do not end with `data: [DONE]` (the Responses API): the
   * event that marks a complete stream, such as `response.completed`. Seen
   * anywhere in the stream, the stream counts as complete.
   */
  terminal?: RegExp,
  /** Told the tokens of the stream's usage (its last `total_tokens`) when it completes. */
  onUsage?: (tokens: number) => void,
): Promise<'done' | 'interrupted' | 'client-gone'> {
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let tail = '';
  let sawTerminal = false;
  let usageTail = '';
  const write = async (chunk: Buffer) => {
    const text = tail + chunk.toString('latin1');
    if (onUsage) usageTail = (usageTail + chunk.toString('latin1')).slice(-USAGE_TAIL_CHARS);
    if (terminal && !sawTerminal) sawTerminal = terminal.test(text);
    tail = text.slice(-64);
    if (!raw.write(chunk)) await once(raw, 'drain', { signal: cancellation.signal() });
  };
  try {
    await write(answer.first);
    for (;;) {
      const next = await answer.rest.next();
      if (next.done) break;
      await write(next.value);
    }
    if (terminal ? !sawTerminal : !DONE.test(tail))
      throw new Error(`upstream ended the stream without ${terminal ? `a ${terminal.source} event` : 'data: [DONE]'}`);
    raw.end();
    if (onUsage) onUsage(usageTokens(usageTail));
    return 'done';
  } catch (error) {
    if (cancellation.cancelled || raw.destroyed) {
      raw.destroy();
      return 'client-gone';
    }
    const failure = new ProxyError('upstream_stream_interrupted', `the upstream stream failed after it began: ${(error as Error).message}`);
    // Close any half-written event first, so the error event parses on its own.
    const prefix = tail.endsWith('\n\n') || tail.length === 0 ? '' : '\n\n';
    raw.end(`${prefix}event: error\ndata: ${JSON.stringify(failure.toJSON())}\n\n`);
    return 'interrupted';
  }
}
