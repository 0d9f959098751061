// NATS client failures as ragwire's typed errors (packages/protocol/src/errors.ts): the caller matches on
// `code`, never on a NATS message; and the one bounded retry of a call that failed for a passing reason.
import { setTimeout as sleep } from 'node:timers/promises';
import { JetStreamApiError } from '@nats-io/jetstream';
import { LogFullError, LogUnavailableError, isRagwireError, type RagwireError } from '@ragwire/protocol';

/** Whether a publish failure says the stream refused the message for its limits (discard policy `new`). */
function isStreamFull(message: string): boolean {
  return /maximum (bytes|messages)( per subject)? exceeded|insufficient resources|storage limit/i.test(message);
}

/** JetStream's API error 10008, "JetStream system temporarily unavailable": a server whose JetStream is still starting, or a cluster without a meta leader yet. */
const JETSTREAM_TEMPORARILY_UNAVAILABLE = 10008;

/**
 * A JetStream call that may be retried (a publish with the same message id: the stream de-duplicates
 * it): no responders (a stream leader being elected, a node restarting), JetStream still starting, a
 * timeout, a connection being re-established. A typed error is retryable when the NATS failure it wraps (its `cause`) is, as
 * RAGWIRE_ERR_LOG_UNAVAILABLE around a timeout.
 */
export function isRetryableNatsFailure(error: unknown): boolean {
  if (isRagwireError(error)) return error.cause !== undefined && isRetryableNatsFailure(error.cause);
  if (error instanceof JetStreamApiError && error.code === JETSTREAM_TEMPORARILY_UNAVAILABLE) return true;
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  if (isStreamFull(message)) return false;
  return /no ?responders|timeout|timed out|disconnect|reconnect|503|stream not found|leader/i.test(message);
}

/** The typed error for a failed write-log operation; `what` says which one, for the message. */
export function logError(what: string, error: unknown): RagwireError {
  if (isRagwireError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isStreamFull(message)) return new LogFullError(`${what}: the stream is full (${message})`, { cause: error });
  return new LogUnavailableError(`${what}: ${message}`, { cause: error });
}

/**
 * `call`, called again while it fails with a retryable NATS failure (isRetryableNatsFailure), after
 * 250 ms, then twice as long each time up to 5 s, for up to `forMs`; then its last failure. `onRetry`
 * is told of each failure retried.
 */
export async function retryNats<T>(call: () => Promise<T>, forMs: number, onRetry?: (error: unknown, attempt: number) => void): Promise<T> {
  const until = Date.now() + forMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const left = until - Date.now();
      if (!isRetryableNatsFailure(error) || left <= 0) throw error;
      onRetry?.(error, attempt);
      await sleep(Math.min(5_000, 125 * 2 ** attempt, left));
    }
  }
}
