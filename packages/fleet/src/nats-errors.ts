// NATS client failures as ragwire's typed errors (packages/protocol/src/errors.ts): the caller matches on
// `code`, never on a NATS message.
import { LogFullError, LogUnavailableError, isRagwireError, type RagwireError } from '@ragwire/protocol';

/** Whether a publish failure says the stream refused the message for its limits (discard policy `new`). */
function isStreamFull(message: string): boolean {
  return /maximum (bytes|messages)( per subject)? exceeded|insufficient resources|storage limit/i.test(message);
}

/**
 * A JetStream call that may be retried (a publish with the same message id: the stream de-duplicates
 * it): no responders (a stream leader being elected, a node restarting), a timeout, a connection being
 * re-established.
 */
export function isRetryableNatsFailure(error: unknown): boolean {
  if (isRagwireError(error)) return false;
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
