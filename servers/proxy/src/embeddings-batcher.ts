import type { ProxyConfig } from './config';
import { ProxyError } from './errors';
import type { ProxyMetrics } from './metrics';
import type { UpstreamCaller } from './upstream-call';

export type EmbeddingInput = string | number[];

export interface EmbeddingRequest {
  model: string;
  inputs: EmbeddingInput[];
  dimensions?: number;
  priority: number;
  requestId: string;
}

/** One caller's share of a coalesced answer; embeddings as the upstream sent them (base64 or floats). */
export interface EmbeddingShare {
  embeddings: (string | number[])[];
  promptTokens: number;
}

/** The upstream answered the coalesced call with a non-200; every caller in the batch gets it. */
export class UpstreamAnswerError extends Error {
  constructor(readonly status: number, readonly body: Buffer) {
    super(`upstream answered ${status}`);
  }
}

interface Pending {
  request: EmbeddingRequest;
  tokens: number;
  resolve(share: EmbeddingShare): void;
  reject(error: unknown): void;
}

interface BatchState {
  pending: Pending[];
  tokens: number;
  items: number;
  inflight: number;
  timer: NodeJS.Timeout | undefined;
  immediate: NodeJS.Immediate | undefined;
}

/** Estimated tokens of an input: 4 characters a token for text, the count for token ids. */
export function estimateTokens(input: EmbeddingInput): number {
  return typeof input === 'string' ? Math.max(1, Math.ceil(input.length / 4)) : input.length;
}

/** Splits `total` in proportion to `weights`, in integers that sum to `total` (largest remainder). */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0 && order.length > 0; k = (k + 1) % order.length, left--) out[order[k]![1]]!++;
  return out;
}

/**
 * Coalesces concurrent /v1/embeddings calls for one model (and one
 * `dimensions`, one input kind) into a single upstream call with list input,
 * then splits the answer back by index, usage apportioned by each caller's
 * share of estimated tokens. A batch leaves when it reaches `maxItems` or
 * `maxTokens`, after `maxWaitMs`, at once when no batch for the key is in
 * flight (so a lone caller waits no timer), or when an in-flight batch
 * returns: under load, batches grow to whatever arrived meanwhile.
 */
export class EmbeddingsBatcher {
  private readonly batches = new Map<string, BatchState>();

  constructor(
    private readonly options: Readonly<ProxyConfig['embeddingsBatching']>,
    private readonly caller: UpstreamCaller,
    private readonly metrics: ProxyMetrics,
  ) {}

  submit(request: EmbeddingRequest): Promise<EmbeddingShare> {
    const kind = typeof request.inputs[0] === 'string' ? 'text' : 'tokens';
    const key = `${request.model}\u0000${request.dimensions ?? ''}\u0000${kind}`;
    let state = this.batches.get(key);
    if (!state) {
      state = { pending: [], tokens: 0, items: 0, inflight: 0, timer: undefined, immediate: undefined };
      this.batches.set(key, state);
    }
    const tokens = request.inputs.reduce((s, i) => s + estimateTokens(i), 0);
    // A caller that would overflow the open batch starts the next one.
    if (state.items > 0 && (state.items + request.inputs.length > this.options.maxItems || state.tokens + tokens > this.options.maxTokens)) this.flush(key, state);
    return new Promise<EmbeddingShare>((resolve, reject) => {
      const s = state!;
      s.pending.push({ request, tokens, resolve, reject });
      s.items += request.inputs.length;
      s.tokens += tokens;
      if (s.items >= this.options.maxItems || s.tokens >= this.options.maxTokens) this.flush(key, s);
      else if (s.inflight === 0) s.immediate ??= setImmediate(() => this.flush(key, s));
      else s.timer ??= setTimeout(() => this.flush(key, s), this.options.maxWaitMs);
    });
  }

  private flush(key: string, state: BatchState): void {
    if (state.timer) clearTimeout(state.timer);
    if (state.immediate) clearImmediate(state.immediate);
    state.timer = undefined;
    state.immediate = undefined;
    const batch = state.pending;
    if (batch.length === 0) return;
    state.pending = [];
    state.items = 0;
    state.tokens = 0;
    state.inflight++;
    void this.send(batch).finally(() => {
      state.inflight--;
      if (state.pending.length > 0) this.flush(key, state);
      else if (state.inflight === 0 && !state.timer) this.batches.delete(key);
    });
  }

  private async send(batch: Pending[]): Promise<void> {
    const first = batch[0]!.request;
    const input = batch.flatMap((p) => p.request.inputs);
    this.metrics.batchSize.observe({ kind: 'embeddings', model: first.model }, input.length);
    const body: Record<string, unknown> = { model: first.model, input, encoding_format: 'base64' };
    if (first.dimensions !== undefined) body.dimensions = first.dimensions;
    try {
      const answer = await this.caller.buffered({
        model: first.model,
        path: '/v1/embeddings',
        body: JSON.stringify(body),
        priority: Math.min(...batch.map((p) => p.request.priority)),
        requestId: batch.length === 1 ? first.requestId : `${first.requestId}+${batch.length - 1}`,
        signal: new AbortController().signal,
      });
      if (answer.status !== 200) throw new UpstreamAnswerError(answer.status, answer.body);
      const parsed = JSON.parse(answer.body.toString('utf8')) as { data?: { index: number; embedding: string | number[] }[]; usage?: { prompt_tokens?: number } };
      if (!Array.isArray(parsed.data) || parsed.data.length !== input.length) {
        throw new ProxyError('upstream_error', `upstream returned ${parsed.data?.length ?? 'no'} embeddings for ${input.length} inputs`);
      }
      const byIndex = new Array<string | number[]>(input.length);
      for (const d of parsed.data) byIndex[d.index] = d.embedding;
      const usage = apportion(parsed.usage?.prompt_tokens ?? 0, batch.map((p) => p.tokens));
      let offset = 0;
      batch.forEach((p, i) => {
        const n = p.request.inputs.length;
        p.resolve({ embeddings: byIndex.slice(offset, offset + n), promptTokens: usage[i]! });
        offset += n;
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
