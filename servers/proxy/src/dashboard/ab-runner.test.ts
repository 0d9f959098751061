import { describe, expect, it } from 'vitest';
import { ProxyError } from '../errors';
import { abReport, AbRunner, type AbRun } from './ab-runner';

const run = (label: string, totalMs: number): AbRun => ({ label, totalMs, stages: { retrieve: totalMs / 2, generate: totalMs / 2 }, answer: 'same' });

async function failure(promise: Promise<unknown>): Promise<ProxyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProxyError);
  return error as ProxyError;
}

describe('AbRunner', () => {
  it('computes the speedup as baseline over ragwire and keeps the last report', async () => {
    const runner = new AbRunner({ runAb: async (q) => abReport(q, run('json', 30), run('ragwire', 12)) }, 1_000);
    expect(runner.available).toBe(true);
    expect(runner.lastReport).toBeUndefined();
    const report = await runner.run('why?');
    expect(report.speedup).toBe(2.5);
    expect(runner.lastReport).toBe(report);
  });

  it('answers ab_unavailable without a hook', async () => {
    const runner = new AbRunner({}, 1_000);
    expect(runner.available).toBe(false);
    expect((await failure(runner.run('q'))).code).toBe('ab_unavailable');
  });

  it('refuses a second run while one is in progress, then accepts again', async () => {
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const runner = new AbRunner(
      {
        runAb: async (q) => {
          await gate;
          return abReport(q, run('a', 2), run('b', 1));
        },
      },
      1_000,
    );
    const first = runner.run('one');
    const busy = await failure(runner.run('two'));
    expect(busy.code).toBe('ab_busy');
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after-ms']).toBe('1000');
    finish();
    await first;
    expect((await runner.run('three')).question).toBe('three');
  });

  it('answers ab_failed when the hook throws, hangs past the timeout, or reports nonsense', async () => {
    const thrown = await failure(
      new AbRunner(
        {
          runAb: async () => {
            throw new Error('baseline search service refused the connection');
          },
        },
        1_000,
      ).run('q'),
    );
    expect(thrown.code).toBe('ab_failed');
    expect(thrown.message).toContain('baseline search service refused the connection');

    const hanging = new AbRunner({ runAb: () => new Promise(() => {}) }, 30);
    const timedOut = await failure(hanging.run('q'));
    expect(timedOut.message).toBe('the A/B run did not finish within 30 ms');
    // The timed-out run no longer holds the runner.
    expect((await failure(hanging.run('q'))).code).toBe('ab_failed');

    const nonsense = await failure(
      new AbRunner(
        { runAb: async (q) => ({ ...abReport(q, run('a', 2), run('b', 1)), ragwire: { ...run('b', 1), stages: { merge: Number.NaN } } }) },
        1_000,
      ).run('q'),
    );
    expect(nonsense.code).toBe('ab_failed');
    expect(nonsense.message).toContain('ragwire.stages.merge must be a finite number >= 0');
  });
});
