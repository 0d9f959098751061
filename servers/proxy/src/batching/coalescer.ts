/** How big a coalesced upstream call may grow, and how long its first caller waits for company. */
export interface CoalescerLimits {
  /** Most items (inputs, prompts) in one upstream call. */
  maxItems: number;
  /** Most estimated tokens in one upstream call. */
  maxTokens: number;
  /** Longest a first caller waits for company while another batch for its key is in flight. */
  maxWaitMs: number;
}

/** One caller waiting in a batch: its request, its size, and how to answer it. */
export interface Waiting<R, S> {
  request: R;
  items: number;
  tokens: number;
  resolve(share: S): void;
  reject(error: unknown): void;
}

interface BatchState<R, S> {
  pending: Waiting<R, S>[];
  tokens: number;
  items: number;
  inflight: number;
  timer: NodeJS.Timeout | undefined;
  immediate: NodeJS.Immediate | undefined;
}

/**
 * Groups concurrent callers that share a key into batches and hands each
 * batch to `send`, which must answer every caller in it. A batch leaves when
 * it reaches `maxItems` or `maxTokens`, at once when no batch for its key is
 * in flight (so a lone caller waits no timer), after `maxWaitMs`, or when an
 * in-flight batch returns: under load, batches grow to whatever arrived
 * meanwhile.
 */
export class Coalescer<R, S> {
  private readonly batches = new Map<string, BatchState<R, S>>();

  constructor(
    private readonly limits: Readonly<CoalescerLimits>,
    private readonly send: (batch: Waiting<R, S>[]) => Promise<void>,
  ) {}

  submit(key: string, request: R, items: number, tokens: number): Promise<S> {
    let state = this.batches.get(key);
    if (!state) {
      state = { pending: [], tokens: 0, items: 0, inflight: 0, timer: undefined, immediate: undefined };
      this.batches.set(key, state);
    }
    // A caller that would overflow the open batch starts the next one.
    if (state.items > 0 && (state.items + items > this.limits.maxItems || state.tokens + tokens > this.limits.maxTokens)) this.flush(key, state);
    return new Promise<S>((resolve, reject) => {
      const s = state!;
      s.pending.push({ request, items, tokens, resolve, reject });
      s.items += items;
      s.tokens += tokens;
      if (s.items >= this.limits.maxItems || s.tokens >= this.limits.maxTokens) this.flush(key, s);
      else if (s.inflight === 0) s.immediate ??= setImmediate(() => this.flush(key, s));
      else s.timer ??= setTimeout(() => this.flush(key, s), this.limits.maxWaitMs);
    });
  }

  private flush(key: string, state: BatchState<R, S>): void {
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
    void this.send(batch)
      .catch((error: unknown) => {
        for (const w of batch) w.reject(error);
      })
      .finally(() => {
        state.inflight--;
        if (state.pending.length > 0) this.flush(key, state);
        else if (state.inflight === 0 && !state.timer) this.batches.delete(key);
      });
  }
}

/** Estimated tokens of a text: 4 characters a token. */
export function estimateTextTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
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

/** The upstream answered a coalesced call with a non-200; every caller in the batch gets it. */
export class UpstreamAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly body: Buffer,
  ) {
    super(`upstream answered ${status}`);
  }
}
