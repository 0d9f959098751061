import type { ServerResponse } from 'node:http';
import type { BatchEngine, FinishReason } from './engine';
import type { ChoicePlan } from './generation';
import { SIM_HEADERS, sendJson } from './http';

export interface GenerationJob {
  kind: 'chat' | 'text';
  id: string;
  model: string;
  created: number;
  /** One entry per prompt; choice i belongs to prompt floor(i / n). */
  promptTokens: string[][];
  plans: ChoicePlan[];
  n: number;
  stream: boolean;
  includeUsage: boolean;
  maxModelLen: number;
  requestId: string;
  /** Called once when the client went away before the response was complete. */
  onCancel(): void;
}

/**
 * Runs every choice of a chat or text completion through the engine and
 * answers as vLLM does: one JSON body, or SSE chunks (role first for chat,
 * a finish chunk per choice, the usage chunk with `choices: []` when asked,
 * then `data: [DONE]`).
 */
export function runGeneration(engine: BatchEngine, res: ServerResponse, job: GenerationJob): void {
  const object = job.kind === 'chat' ? (job.stream ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion';
  const aborts: (() => void)[] = [];
  const outputs: string[] = job.plans.map(() => '');
  const finishes: (string | null)[] = job.plans.map(() => null);
  let remaining = job.plans.length;
  let completionTokens = 0;
  let closed = false;
  const promptTokenCount = job.promptTokens.reduce((s, p) => s + p.length, 0);
  const headers = { ...SIM_HEADERS, 'x-request-id': job.requestId };

  const chunk = (choices: unknown[], usage?: unknown) => {
    const body: Record<string, unknown> = { id: job.id, object, created: job.created, model: job.model, choices };
    if (job.includeUsage) body.usage = usage ?? null;
    res.write(`data: ${JSON.stringify(body)}\n\n`);
  };

  res.on('close', () => {
    if (remaining > 0 && !closed) {
      closed = true;
      job.onCancel();
      for (const abort of aborts) abort();
    }
  });

  if (job.stream) {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  }

  const usage = () => ({ prompt_tokens: promptTokenCount, completion_tokens: completionTokens, total_tokens: promptTokenCount + completionTokens });

  const finishAll = () => {
    if (job.stream) {
      if (job.includeUsage) chunk([], usage());
      res.end('data: [DONE]\n\n');
      return;
    }
    const choices = job.plans.map((plan, index) => {
      if (job.kind === 'text') return { index, text: outputs[index], logprobs: null, finish_reason: finishes[index], stop_reason: null };
      const message: Record<string, unknown> =
        plan.kind === 'tool'
          ? { role: 'assistant', content: null, tool_calls: [{ id: plan.id, type: 'function', function: { name: plan.name, arguments: outputs[index] } }] }
          : { role: 'assistant', content: outputs[index], tool_calls: [] };
      return { index, message, logprobs: null, finish_reason: finishes[index], stop_reason: null };
    });
    sendJson(res, 200, { id: job.id, object, created: job.created, model: job.model, choices, usage: usage() }, headers);
  };

  job.plans.forEach((plan, index) => {
    const prompt = job.promptTokens[Math.floor(index / job.n)]!;
    const abort = engine.submit({
      promptTokens: prompt,
      outputTokens: plan.pieces.length,
      reserveTokens: Math.min(job.maxModelLen, prompt.length + plan.pieces.length),
      finishReason: plan.finishReason === 'length' ? 'length' : 'stop',
      onToken(position) {
        const piece = plan.pieces[position]!;
        outputs[index] += piece;
        completionTokens++;
        if (!job.stream || closed) return;
        // As vLLM does, the role chunk goes out with the first token, so the first chunk marks TTFT.
        if (position === 0 && job.kind === 'chat') chunk([{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
        if (job.kind === 'text') chunk([{ index, text: piece, logprobs: null, finish_reason: null }]);
        else if (plan.kind === 'tool') {
          const delta =
            position === 0
              ? { tool_calls: [{ index: 0, id: plan.id, type: 'function', function: { name: plan.name, arguments: '' } }] }
              : { tool_calls: [{ index: 0, function: { arguments: piece } }] };
          chunk([{ index, delta, logprobs: null, finish_reason: null }]);
        } else chunk([{ index, delta: { content: piece }, logprobs: null, finish_reason: null }]);
      },
      onFinish(reason: FinishReason) {
        if (reason === 'abort') return;
        finishes[index] = plan.finishReason;
        if (job.stream && !closed) {
          const last =
            job.kind === 'text'
              ? { index, text: '', logprobs: null, finish_reason: plan.finishReason }
              : { index, delta: {}, logprobs: null, finish_reason: plan.finishReason };
          chunk([last]);
        }
        if (--remaining === 0 && !closed) finishAll();
      },
    });
    aborts.push(abort);
  });
}
