import type { SimConfig } from './config';
import { PrefixCache } from './prefix-cache';

export type FinishReason = 'stop' | 'length' | 'abort';

/** One sequence: a prompt to prefill, then `outputTokens` decode steps (0 for an embedding). */
export interface SequenceRequest {
  promptTokens: readonly string[];
  outputTokens: number;
  /** Tokens reserved in the KV cache while running (prompt + most output). */
  reserveTokens: number;
  /** Why the sequence ends once all its output tokens are out. */
  finishReason: 'stop' | 'length';
  /** Called once per generated token, with its 0-based position. */
  onToken(position: number): void;
  /** Called once: after the last token, after prefill for an embedding, or on abort. */
  onFinish(reason: FinishReason, cachedPromptTokens: number): void;
}

interface Sequence extends SequenceRequest {
  emitted: number;
  prefilled: boolean;
  cachedTokens: number;
  done: boolean;
}

/** Counters and gauges the /metrics route reports under vLLM's names. */
export interface EngineStats {
  running: number;
  waiting: number;
  kvUsage: number;
  promptTokens: number;
  generationTokens: number;
  finished: Record<FinishReason, number>;
  prefixQueriedTokens: number;
  prefixHitTokens: number;
  steps: number;
}

/**
 * A continuous-batching scheduler with vLLM's shape: each step admits waiting
 * sequences while KV capacity and max_num_seqs allow, prefills the newcomers,
 * and advances every running sequence by one token. A step lasts
 * base + perSeq x batch + prefill cost of the newcomers' uncached tokens.
 * Nothing runs (no timer is armed) while the engine is idle.
 */
export class BatchEngine {
  private readonly waiting: Sequence[] = [];
  private readonly running: Sequence[] = [];
  private readonly prefixCache: PrefixCache;
  private kvUsed = 0;
  private stepTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private nextStepAt = 0;
  private readonly stats = { promptTokens: 0, generationTokens: 0, steps: 0, finished: { stop: 0, length: 0, abort: 0 } };

  constructor(private readonly config: Readonly<SimConfig>) {
    this.prefixCache = new PrefixCache(config.prefixCacheTokens, config.blockSize);
  }

  /** Queues a sequence; returns a function that aborts it (a no-op once finished). */
  submit(request: SequenceRequest): () => void {
    const seq: Sequence = { ...request, emitted: 0, prefilled: false, cachedTokens: 0, done: false };
    seq.reserveTokens = Math.min(seq.reserveTokens, this.config.kvCapacityTokens);
    this.waiting.push(seq);
    this.schedule();
    return () => this.abort(seq);
  }

  snapshot(): EngineStats {
    return {
      running: this.running.length,
      waiting: this.waiting.length,
      kvUsage: this.kvUsed / this.config.kvCapacityTokens,
      promptTokens: this.stats.promptTokens,
      generationTokens: this.stats.generationTokens,
      finished: { ...this.stats.finished },
      prefixQueriedTokens: this.prefixCache.queriedTokens,
      prefixHitTokens: this.prefixCache.hitTokens,
      steps: this.stats.steps,
    };
  }

  /** Stops the step loop; pending sequences are aborted. */
  close(): void {
    if (this.stepTimer) {
      clearTimeout(this.stepTimer as NodeJS.Timeout);
      clearImmediate(this.stepTimer as NodeJS.Immediate);
    }
    this.stepTimer = undefined;
    for (const seq of [...this.running, ...this.waiting]) this.abort(seq);
  }

  private abort(seq: Sequence): void {
    if (seq.done) return;
    const w = this.waiting.indexOf(seq);
    if (w >= 0) this.waiting.splice(w, 1);
    const r = this.running.indexOf(seq);
    if (r >= 0) {
      this.running.splice(r, 1);
      this.kvUsed -= seq.reserveTokens;
    }
    this.finish(seq, 'abort');
  }

  private finish(seq: Sequence, reason: FinishReason): void {
    seq.done = true;
    this.stats.finished[reason]++;
    seq.onFinish(reason, seq.cachedTokens);
  }

  private schedule(): void {
    if (this.stepTimer) return;
    if (this.running.length === 0 && this.waiting.length === 0) return;
    const now = performance.now();
    // A step's duration is fixed when it starts: admission and prefill happen now.
    let prefillMs = 0;
    while (this.waiting.length > 0 && this.running.length < this.config.maxNumSeqs) {
      const next = this.waiting[0]!;
      if (this.kvUsed + next.reserveTokens > this.config.kvCapacityTokens && this.running.length > 0) break;
      this.waiting.shift();
      this.kvUsed += next.reserveTokens;
      next.cachedTokens = this.prefixCache.lookupAndInsert(next.promptTokens);
      const uncached = next.promptTokens.length - next.cachedTokens;
      prefillMs += uncached * this.config.prefillPerTokenMs + next.cachedTokens * this.config.cachedPrefillPerTokenMs;
      this.stats.promptTokens += next.promptTokens.length;
      this.running.push(next);
    }
    const stepMs = this.config.stepBaseMs + this.config.stepPerSeqMs * this.running.length + prefillMs;
    // Steps chain back to back: keep to the model's clock, catching up at most
    // one step of timer lateness rather than drifting by it.
    const start = this.nextStepAt > 0 ? Math.max(this.nextStepAt, now - stepMs) : now;
    this.nextStepAt = start + stepMs;
    const delay = this.nextStepAt - now;
    // setTimeout cannot wait less than 1 ms: a zero-cost model steps on the next turn of the loop.
    this.stepTimer = delay > 0 ? setTimeout(() => this.completeStep(), delay) : setImmediate(() => this.completeStep());
  }

  private completeStep(): void {
    this.stepTimer = undefined;
    this.stats.steps++;
    const batch = this.running.slice();
    for (const seq of batch) {
      if (seq.done) continue;
      if (!seq.prefilled) seq.prefilled = true;
      if (seq.emitted < seq.outputTokens) {
        seq.onToken(seq.emitted++);
        this.stats.generationTokens++;
      }
      if (seq.done) continue; // aborted from inside onToken
      if (seq.emitted >= seq.outputTokens) {
        this.running.splice(this.running.indexOf(seq), 1);
        this.kvUsed -= seq.reserveTokens;
        this.finish(seq, seq.finishReason);
      }
    }
    if (this.running.length === 0 && this.waiting.length === 0) this.nextStepAt = 0;
    this.schedule();
  }
}
