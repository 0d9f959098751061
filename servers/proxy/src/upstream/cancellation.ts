/**
 * A request's cancellation, fired when its client goes away: a plain
 * listener list rather than an AbortSignal on the per-request path. Node
 * tracks every AbortSignal through weak references, which only a full
 * collection clears, so each one outlives the young generation; at
 * thousands of requests a second that alone fills the old generation and
 * brings long mark-compact pauses. `signal()` makes an AbortSignal on demand
 * for the few APIs that need one.
 */
export class Cancellation {
  /** Why it was cancelled; undefined until then. */
  reason: Error | undefined;
  private listeners: (() => void)[] | undefined;
  private controller: AbortController | undefined;

  get cancelled(): boolean {
    return this.reason !== undefined;
  }

  /** Fires every listener once; later calls do nothing. */
  cancel(reason: Error): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
    this.controller?.abort(reason);
  }

  /** Calls `listener` once on cancellation, at once if already cancelled; returns what unsubscribes it. */
  onCancel(listener: () => void): () => void {
    if (this.reason !== undefined) {
      listener();
      return () => {};
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const i = this.listeners?.indexOf(listener) ?? -1;
      if (i >= 0) this.listeners!.splice(i, 1);
    };
  }

  /** An AbortSignal that aborts with this cancellation, for APIs that take one. */
  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}

/** Resolves after `ms`, or rejects with the reason as soon as `cancellation` fires. */
export function delay(ms: number, cancellation: Cancellation): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
    const stop = cancellation.onCancel(() => {
      clearTimeout(timer);
      reject(cancellation.reason);
    });
  });
}
