// One read against the replicas of one shard: first answer wins, a slow replica gets a hedge, a dead one is skipped.
import { hasCode, ShardTimeoutError, ShardUnavailableError, isRagwireError } from '@ragwire/protocol';
import type { ShardClient } from './shard-client';

/** Failures that say "this replica cannot answer now", after which another replica is tried. */
const REPLICA_FAULTS = new Set(['RAGWIRE_ERR_SHARD_UNAVAILABLE', 'RAGWIRE_ERR_SHARD_TIMEOUT', 'RAGWIRE_ERR_CLOSED', 'RAGWIRE_ERR_REPLICA_BEHIND']);

export function isReplicaFault(error: unknown): boolean {
  return isRagwireError(error) && REPLICA_FAULTS.has(error.code);
}

export interface HedgeOptions {
  /** Where to start in `replicas` (rotated per call to spread load). */
  start: number;
  /** Send the same request to the next replica when none answered after this long; undefined or 0: never. */
  hedgeAfterMs: number | undefined;
  /** The whole read, hedges and retries included, fails with ShardTimeoutError after this long. */
  timeoutMs: number;
  /** Names the shard in errors. */
  shard: number;
}

/**
 * Runs `send` against one replica, then against others: one hedge after `hedgeAfterMs`, and
 * the next replica at once whenever one fails with a replica fault. Replicas waiting out a
 * reconnect backoff go last. Any other error (a bad request) rejects at once: another replica
 * would refuse it too.
 */
export function hedgedRequest<T>(
  replicas: readonly ShardClient[],
  options: HedgeOptions,
  send: (client: ShardClient, timeoutMs: number) => Promise<T>,
): Promise<T> {
  const rotated = replicas.map((_, i) => replicas[(options.start + i) % replicas.length]!);
  const order = [...rotated.filter((c) => c.available), ...rotated.filter((c) => !c.available)];
  const deadline = Date.now() + options.timeoutMs;
  return new Promise<T>((resolve, reject) => {
    let next = 0;
    let running = 0;
    let done = false;
    let lastError: unknown;
    let hedgeTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      done = true;
      clearTimeout(hedgeTimer);
      clearTimeout(deadlineTimer);
    };
    const giveUp = (): void => {
      finish();
      const timedOut = hasCode(lastError, 'RAGWIRE_ERR_SHARD_TIMEOUT');
      const what = `shard ${options.shard}: no replica answered (${replicas.map((c) => c.url).join(', ')})`;
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      reject(timedOut ? new ShardTimeoutError(what + detail, { cause: lastError }) : new ShardUnavailableError(what + detail, { cause: lastError }));
    };
    const launch = (): boolean => {
      if (done || next >= order.length) return false;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      const client = order[next++]!;
      running++;
      send(client, remaining).then(
        (value) => {
          if (done) return;
          finish();
          resolve(value);
        },
        (error: unknown) => {
          running--;
          if (done) return;
          if (!isReplicaFault(error)) {
            finish();
            reject(error);
            return;
          }
          lastError = error;
          if (!launch() && running === 0) giveUp();
        },
      );
      return true;
    };
    const deadlineTimer = setTimeout(() => {
      if (done) return;
      lastError = new ShardTimeoutError(`no reply within ${options.timeoutMs} ms`);
      giveUp();
    }, options.timeoutMs);
    if (options.hedgeAfterMs && options.hedgeAfterMs > 0 && order.length > 1) {
      hedgeTimer = setTimeout(launch, options.hedgeAfterMs);
    }
    launch();
  });
}
