import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { BatchEngine } from './engine';
import { contentText, planText, renderChatPrompt } from './generation';
import { SIM_HEADERS, SimHttpError, sendJson } from './http';
import { tokenize } from './text';

/**
 * The Responses API (`POST /v1/responses`) as vLLM serves it for a text
 * model: `input` a string or a list of messages, `instructions` a system
 * turn, `max_output_tokens`; one `response` object, or a stream of typed
 * events (`response.created`, `response.output_text.delta`...,
 * `response.completed`), which ends with that last event and no `[DONE]`.
 */
export interface ResponsesJob {
  model: string;
  body: Record<string, unknown>;
  seed: number;
  maxModelLen: number;
  requestId: string;
  onCancel(): void;
}

function promptOf(body: Record<string, unknown>): string {
  const messages: { role: unknown; content: unknown }[] = [];
  if (typeof body.instructions === 'string') messages.push({ role: 'system', content: body.instructions });
  const input = body.input;
  if (typeof input === 'string') messages.push({ role: 'user', content: input });
  else if (Array.isArray(input) && input.length > 0) {
    for (const item of input as { role?: unknown; content?: unknown }[]) messages.push({ role: item.role ?? 'user', content: contentText(item.content) });
  } else throw new SimHttpError(400, 'input must be a string or a non-empty list of messages', 'BadRequestError', 'input');
  return renderChatPrompt(messages, undefined);
}

export function runResponses(engine: BatchEngine, res: ServerResponse, job: ResponsesJob): void {
  const { body } = job;
  const maxTokens = body.max_output_tokens;
  if (maxTokens !== undefined && maxTokens !== null && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) {
    throw new SimHttpError(400, 'max_output_tokens must be an integer >= 1', 'BadRequestError', 'max_output_tokens');
  }
  const prompt = promptOf(body);
  const promptTokens = tokenize(prompt);
  const plan = planText(prompt, 0, job.seed, (maxTokens as number | undefined) ?? undefined, false);
  const stream = body.stream === true;
  const id = `resp_${randomUUID().replaceAll('-', '')}`;
  const itemId = `msg_${randomUUID().replaceAll('-', '')}`;
  const createdAt = Math.floor(Date.now() / 1000);
  const headers = { ...SIM_HEADERS, 'x-request-id': job.requestId };
  let text = '';
  let outputTokens = 0;
  let sequence = 0;
  let finished = false;

  const response = (status: 'in_progress' | 'completed' | 'incomplete') => ({
    id,
    object: 'response',
    created_at: createdAt,
    model: job.model,
    status,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    output:
      status === 'in_progress'
        ? []
        : [{ type: 'message', id: itemId, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }],
    usage:
      status === 'in_progress' ? null : { input_tokens: promptTokens.length, output_tokens: outputTokens, total_tokens: promptTokens.length + outputTokens },
  });
  const event = (type: string, fields: Record<string, unknown>) => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`);
  };

  if (stream) res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const abort = engine.submit({
    promptTokens,
    outputTokens: plan.pieces.length,
    reserveTokens: Math.min(job.maxModelLen, promptTokens.length + plan.pieces.length),
    finishReason: plan.finishReason === 'length' ? 'length' : 'stop',
    onToken(position) {
      const piece = plan.pieces[position]!;
      text += piece;
      outputTokens++;
      if (!stream) return;
      if (position === 0) event('response.created', { response: response('in_progress') });
      event('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta: piece });
    },
    onFinish(reason) {
      finished = true;
      if (reason === 'abort') return;
      const status = plan.finishReason === 'length' ? 'incomplete' : 'completed';
      if (!stream) return sendJson(res, 200, response(status), headers);
      event('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text });
      event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response: response(status) });
      res.end();
    },
  });
  res.on('close', () => {
    if (!finished) {
      finished = true;
      job.onCancel();
      abort();
    }
  });
}
