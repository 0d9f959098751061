import { JetStreamApiError } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StaleEpochError } from '@ragwire/protocol';
import { isRetryableNatsFailure, logError, retryNats } from './nats-errors';

const timeout = (): Error => Object.assign(new Error('TIMEOUT'), { name: 'TimeoutError' });

describe('NATS failures', () => {
  it('are retryable when passing, looking through a typed error to the NATS failure it wraps', () => {
    expect(isRetryableNatsFailure(timeout())).toBe(true);
    expect(isRetryableNatsFailure(new Error('503 no responders available'))).toBe(true);
    // What a server answers while its JetStream starts: retried, where a refused request is not.
    const starting = new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' });
    expect(isRetryableNatsFailure(starting)).toBe(true);
    expect(isRetryableNatsFailure(logError('opening the fleet catalog', starting))).toBe(true);
    expect(isRetryableNatsFailure(new JetStreamApiError({ code: 400, err_code: 10052, description: 'invalid stream config' }))).toBe(false);
    const wrapped = logError('opening the fleet catalog', timeout());
    expect(wrapped.code).toBe('RAGWIRE_ERR_LOG_UNAVAILABLE');
    expect(isRetryableNatsFailure(wrapped)).toBe(true);
    // A full stream, a changed map, a typed error wrapping nothing: retrying does not help.
    expect(isRetryableNatsFailure(logError('publishing', new Error('maximum messages exceeded')))).toBe(false);
    expect(isRetryableNatsFailure(new StaleEpochError('changed', { cause: new Error('wrong last sequence: 4') }))).toBe(false);
    expect(isRetryableNatsFailure(new InvalidArgumentError('timeout in the message, no cause'))).toBe(false);
  });

  it('are retried with backoff within a bound; others fail at once', async () => {
    let calls = 0;
    const retried: number[] = [];
    const value = await retryNats(
      async () => {
        if (++calls < 3) throw logError('stream info', timeout());
        return 'ok';
      },
      10_000,
      (_error, attempt) => retried.push(attempt),
    );
    expect(value).toBe('ok');
    expect(retried).toEqual([1, 2]);

    calls = 0;
    await expect(retryNats(async () => Promise.reject(new InvalidArgumentError('bad') as Error).finally(() => calls++), 10_000)).rejects.toMatchObject({
      code: 'RAGWIRE_ERR_INVALID_ARGUMENT',
    });
    expect(calls).toBe(1);

    const t0 = Date.now();
    calls = 0;
    await expect(retryNats(async () => Promise.reject(timeout()).finally(() => calls++), 600)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(calls).toBeGreaterThan(1);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
