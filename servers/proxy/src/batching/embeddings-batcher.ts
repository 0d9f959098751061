import { Cancellation } from '../upstream/cancellation';
import { Coalescer, UpstreamAnswerError, apportion, estimateTextTokens, type Waiting } from './coalescer';
import type { ProxyConfig } from '../config';
import { ProxyError } from '../errors';
import type { ProxyMetrics } from '../metrics';
import type { UpstreamCaller } from '../upstream/upstream-call';
import type { TraceSpan } from '@ragwire/tracing';
import { traced } from '../tracing/spans';

export type EmbeddingInput = string | number[];

export interface EmbeddingRequest {
  model: string;
  inputs: EmbeddingInput[];
  dimensions?: number;
  priority: number;
  requestId: string;
  /** The caller's span (tracing on): the batch's upstream call is traced under the first, linked to the others. */
  trace?: TraceSpan;
}

/** One caller's share of a coalesced answer; embeddings as the upstream sent them (base64 or floats). */
export interface EmbeddingShare {
  embeddings: (string | number[])[];
  promptTokens: number;
}

/** Estimated tokens of an input: 4 characters a token for text, the count for token ids. */
export function estimateTokens(input: EmbeddingInput): number {
  return typeof input === 'string' ? estimateTextTokens(input) : input.length;
}

/**
 * Coalesces concurrent /v1/embeddings calls for one model (and one
 * `dimensions`, one input kind) into a single upstream call with list input,
 * then splits the answer back by index, usage apportioned by each caller's
 * share of estimated tokens. See Coalescer for when a batch leaves.
 */
export class EmbeddingsBatcher {
  private readonly coalescer: Coalescer<EmbeddingRequest, EmbeddingShare>;

  constructor(
    options: Readonly<ProxyConfig['embeddingsBatching']>,
    private readonly caller: UpstreamCaller,
    private readonly metrics: ProxyMetrics,
  ) {
    this.coalescer = new Coalescer(options, (batch) => this.send(batch));
  }

  submit(request: EmbeddingRequest): Promise<EmbeddingShare> {
    const kind = typeof request.inputs[0] === 'string' ? 'text' : 'tokens';
    const key = `${request.model}\u0000${request.dimensions ?? ''}\u0000${kind}`;
    const tokens = request.inputs.reduce((s, i) => s + estimateTokens(i), 0);
    return this.coalescer.submit(key, request, request.inputs.length, tokens);
  }

  private async send(batch: Waiting<EmbeddingRequest, EmbeddingShare>[]): Promise<void> {
    const first = batch[0]!.request;
    const input = batch.flatMap((p) => p.request.inputs);
    this.metrics.batchSize.observe({ kind: 'embeddings', model: first.model }, input.length);
    const body: Record<string, unknown> = { model: first.model, input, encoding_format: 'base64' };
    if (first.dimensions !== undefined) body.dimensions = first.dimensions;
    // The batch's span is a child of a caller whose trace is recorded (unsampled callers' traces get nothing), linked to the others.
    const callers = batch.flatMap((p) => (p.request.trace ? [p.request.trace] : []));
    const recorded = callers.filter((c) => c.recorded);
    const parent = recorded[0] ?? callers[0];
    const span = parent?.child(
      'embed.batch',
      { 'ragwire.model': first.model, 'ragwire.batch.callers': batch.length, 'ragwire.batch.inputs': input.length },
      undefined,
      recorded.slice(1),
    );
    const answer = await traced(
      span,
      this.caller.buffered({
        ...(span ? { trace: span } : {}),
        model: first.model,
        path: '/v1/embeddings',
        body: JSON.stringify(body),
        priority: Math.min(...batch.map((p) => p.request.priority)),
        requestId: batch.length === 1 ? first.requestId : `${first.requestId}+${batch.length - 1}`,
        cancellation: new Cancellation(), // shared by the batch: no one caller cancels it
      }),
    );
    if (answer.status !== 200) throw new UpstreamAnswerError(answer.status, answer.body);
    const parsed = JSON.parse(answer.body.toString('utf8')) as { data?: { index: number; embedding: string | number[] }[]; usage?: { prompt_tokens?: number } };
    if (!Array.isArray(parsed.data) || parsed.data.length !== input.length) {
      throw new ProxyError('upstream_error', `upstream returned ${parsed.data?.length ?? 'no'} embeddings for ${input.length} inputs`);
    }
    const byIndex = new Array<string | number[]>(input.length);
    for (const d of parsed.data) byIndex[d.index] = d.embedding;
    const usage = apportion(
      parsed.usage?.prompt_tokens ?? 0,
      batch.map((p) => p.tokens),
    );
    let offset = 0;
    batch.forEach((p, i) => {
      const n = p.request.inputs.length;
      p.resolve({ embeddings: byIndex.slice(offset, offset + n), promptTokens: usage[i]! });
      offset += n;
    });
  }
}
