import { Cancellation } from '../upstream/cancellation';
import { Coalescer, UpstreamAnswerError, apportion, estimateTextTokens, type Waiting } from './coalescer';
import type { ProxyConfig } from '../config';
import { ProxyError } from '../errors';
import type { ProxyMetrics } from '../metrics';
import type { UpstreamCaller } from '../upstream/upstream-call';

export interface CompletionRequest {
  model: string;
  prompt: string;
  /** The request's body without `prompt` (and without ragwire's `priority`): the shared sampling parameters. */
  params: Record<string, unknown>;
  priority: number;
  requestId: string;
}

/** One caller's answer, a complete /v1/completions response body, and how many calls shared its upstream call. */
export interface CompletionShare {
  body: string;
  coalesced: number;
}

interface UpstreamChoice {
  index: number;
  text?: string;
  [field: string]: unknown;
}

interface UpstreamCompletion {
  id?: string;
  choices?: UpstreamChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  [field: string]: unknown;
}

/**
 * Whether a /v1/completions body may share an upstream call with others: not a stream, one string
 * prompt, one choice (`n` and `best_of` absent or 1). Everything else goes upstream on its own.
 */
export function coalescibleCompletion(body: Record<string, unknown>): boolean {
  return (
    body.stream !== true &&
    typeof body.prompt === 'string' &&
    (body.n === undefined || body.n === 1) &&
    (body.best_of === undefined || body.best_of === null || body.best_of === 1)
  );
}

/**
 * Coalesces concurrent non-streaming /v1/completions calls that share every
 * sampling parameter into vLLM's list-prompt form (one HTTP request, one
 * scheduling pass upstream), then gives each caller its own response: its
 * choice at index 0, an id of its own, usage apportioned (prompt tokens by
 * each prompt's estimated share, completion tokens by each answer's share of
 * the text). Off by default (`completionsBatching.enabled`): a coalesced
 * answer's usage is an estimate, and a caller that disconnects does not
 * cancel the shared upstream call.
 */
export class CompletionsBatcher {
  private readonly coalescer: Coalescer<CompletionRequest, CompletionShare>;

  constructor(
    options: Readonly<ProxyConfig['completionsBatching']>,
    private readonly caller: UpstreamCaller,
    private readonly metrics: ProxyMetrics,
  ) {
    this.coalescer = new Coalescer(options, (batch) => this.send(batch));
  }

  submit(request: CompletionRequest): Promise<CompletionShare> {
    // Same model and the same parameters, byte for byte: a different field order only misses a merge.
    const key = JSON.stringify(request.params);
    return this.coalescer.submit(key, request, 1, estimateTextTokens(request.prompt));
  }

  private async send(batch: Waiting<CompletionRequest, CompletionShare>[]): Promise<void> {
    const first = batch[0]!.request;
    this.metrics.batchSize.observe({ kind: 'completions', model: first.model }, batch.length);
    const answer = await this.caller.buffered({
      model: first.model,
      path: '/v1/completions',
      body: JSON.stringify({ ...first.params, prompt: batch.length === 1 ? first.prompt : batch.map((w) => w.request.prompt) }),
      prefixText: first.prompt,
      priority: Math.min(...batch.map((w) => w.request.priority)),
      requestId: batch.length === 1 ? first.requestId : `${first.requestId}+${batch.length - 1}`,
      cancellation: new Cancellation(), // shared by the batch: no one caller cancels it
    });
    if (answer.status !== 200) throw new UpstreamAnswerError(answer.status, answer.body);
    if (batch.length === 1) {
      batch[0]!.resolve({ body: answer.body.toString('utf8'), coalesced: 1 });
      return;
    }
    const parsed = JSON.parse(answer.body.toString('utf8')) as UpstreamCompletion;
    const choices = new Array<UpstreamChoice | undefined>(batch.length);
    for (const c of Array.isArray(parsed.choices) ? parsed.choices : [])
      if (Number.isInteger(c.index) && c.index >= 0 && c.index < batch.length) choices[c.index] = c;
    if (choices.some((c) => c === undefined)) {
      throw new ProxyError('upstream_error', `upstream answered ${parsed.choices?.length ?? 'no'} choices for ${batch.length} prompts`);
    }
    const promptTokens = apportion(
      parsed.usage?.prompt_tokens ?? 0,
      batch.map((w) => w.tokens),
    );
    const completionTokens = apportion(
      parsed.usage?.completion_tokens ?? 0,
      choices.map((c) => Math.max(1, c!.text?.length ?? 0)),
    );
    const { choices: _, usage: __, id, ...rest } = parsed;
    batch.forEach((w, i) => {
      const usage = { prompt_tokens: promptTokens[i]!, completion_tokens: completionTokens[i]!, total_tokens: promptTokens[i]! + completionTokens[i]! };
      const body = { id: `${id ?? 'cmpl'}-${i}`, ...rest, choices: [{ ...choices[i]!, index: 0 }], usage };
      w.resolve({ body: JSON.stringify(body), coalesced: batch.length });
    });
  }
}
