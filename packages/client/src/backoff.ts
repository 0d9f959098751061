/** Reconnect delays: exponential, capped, with "equal jitter" (half fixed, half random) so clients spread out. */
export interface BackoffOptions {
  /** First delay after a failure. Default 50 ms. */
  initialMs?: number;
  /** Largest delay. Default 5000 ms. */
  maxMs?: number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private failures = 0;
  /** Time (ms since epoch) before which no new attempt is made. */
  retryAt = 0;

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = options.initialMs ?? 50;
    this.maxMs = options.maxMs ?? 5000;
  }

  /** Records a failure; returns the delay chosen before the next attempt. */
  failed(now = Date.now()): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    const delay = ceiling / 2 + (this.random() * ceiling) / 2;
    this.retryAt = now + delay;
    return delay;
  }

  succeeded(): void {
    this.failures = 0;
    this.retryAt = 0;
  }

  /** True while waiting out the delay after a failure. */
  waiting(now = Date.now()): boolean {
    return now < this.retryAt;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
