import { describe, expect, it } from 'vitest';
import { Prng } from '@ragwire/datasets';
import { nearestRank, StageRecorder, type StageRecorderOptions } from './stage-recorder';

/** A recorder on a clock the test moves. */
function recorderAt(startMs: number, options: StageRecorderOptions = {}) {
  const clock = { ms: startMs };
  const recorder = new StageRecorder({ now: () => clock.ms, ...options });
  return { recorder, clock };
}

/** A seeded uniform source, so reservoir tests are repeatable. */
function seeded(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.nextFloat();
}

describe('StageRecorder', () => {
  it('buckets samples by epoch second', () => {
    const { recorder, clock } = recorderAt(1_000_000);
    recorder.record({ stage: 'embed', ms: 4, at: 1_000_100 });
    recorder.record({ stage: 'embed', ms: 6, at: 1_000_900 });
    clock.ms = 1_001_500;
    recorder.record({ stage: 'embed', ms: 9 });
    recorder.record({ stage: 'generate', ms: 120 });
    expect(recorder.stageNames()).toEqual(['embed', 'generate']);
    expect(recorder.stageSeries('embed')).toEqual({ t: [1000, 1001], p50: [4, 9], p99: [6, 9], count: [2, 1] });
    expect(recorder.stageSeries('missing')).toEqual({ t: [], p50: [], p99: [], count: [] });
  });

  it('gives nearest-rank p50 and p99 of a second', () => {
    const { recorder } = recorderAt(5_000);
    const values = Array.from({ length: 200 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    for (const ms of values) recorder.record({ stage: 'retrieve', ms });
    const series = recorder.stageSeries('retrieve');
    expect(series.p50).toEqual([100]);
    expect(series.p99).toEqual([198]);
    expect(series.count).toEqual([200]);
    expect(nearestRank([], 0.5)).toBeNaN();
    expect(nearestRank([7], 0.99)).toBe(7);
  });

  it('keeps only the last windowSeconds and refuses samples older than that', () => {
    const { recorder, clock } = recorderAt(0, { windowSeconds: 5 });
    for (let s = 0; s < 10; s++) {
      clock.ms = s * 1000 + 10;
      recorder.record({ stage: 'merge', ms: s });
      recorder.countRequest();
    }
    expect(recorder.stageSeries('merge').t).toEqual([5, 6, 7, 8, 9]);
    expect(recorder.stageSeries('merge').p50).toEqual([5, 6, 7, 8, 9]);
    expect(recorder.throughput()).toEqual({ t: [5, 6, 7, 8, 9], rps: [1, 1, 1, 1, 1] });
    expect(recorder.record({ stage: 'merge', ms: 1, at: 4_999 })).toBe(false);
    expect(recorder.record({ stage: 'merge', ms: 1, at: 5_000 })).toBe(true);
    // A timestamp ahead of the clock counts as now, and never evicts the window's oldest second.
    expect(recorder.record({ stage: 'merge', ms: 50, at: 60_000 })).toBe(true);
    expect(recorder.stageSeries('merge').t).toEqual([5, 6, 7, 8, 9]);
    expect(recorder.stageSeries('merge').count).toEqual([2, 1, 1, 1, 2]);
    clock.ms = 30_000;
    expect(recorder.stageNames()).toEqual([]);
  });

  it('holds bounded memory however many samples arrive, and the reservoir still estimates percentiles', () => {
    const { recorder, clock } = recorderAt(0, { windowSeconds: 10, samplesPerBucket: 128, random: seeded(7) });
    const rnd = seeded(11);
    for (let s = 0; s < 30; s++) {
      clock.ms = s * 1000;
      // 20 000 latencies a second, uniform in [0, 1000) ms.
      for (let i = 0; i < 20_000; i++) recorder.record({ stage: 'embed', ms: rnd() * 1000, shard: `s${i % 4}` });
    }
    // 10 stage buckets + 4 shards x 10 shard buckets, 128 samples each at most.
    expect(recorder.retainedSamples()).toBeLessThanOrEqual((10 + 4 * 10) * 128);
    const series = recorder.stageSeries('embed');
    expect(series.t).toHaveLength(10);
    expect(series.count.every((c) => c === 20_000)).toBe(true);
    for (const p50 of series.p50) expect(Math.abs(p50 - 500)).toBeLessThan(150);
    for (const p99 of series.p99) expect(p99).toBeGreaterThan(940);
  });

  it('refuses new series beyond maxStages and maxShardSeries', () => {
    const { recorder } = recorderAt(0, { maxStages: 2, maxShardSeries: 1 });
    expect(recorder.record({ stage: 'a', ms: 1 })).toBe(true);
    expect(recorder.record({ stage: 'b', ms: 1, shard: '0' })).toBe(true);
    expect(recorder.hasRoomFor('c')).toBe(false);
    expect(recorder.record({ stage: 'c', ms: 1 })).toBe(false);
    expect(recorder.hasRoomFor('b', '1')).toBe(false);
    expect(recorder.record({ stage: 'b', ms: 2, shard: '0' })).toBe(true);
    expect(recorder.record({ stage: 'a', ms: -1 })).toBe(false);
    expect(recorder.record({ stage: 'a', ms: Number.NaN })).toBe(false);
    expect(recorder.stageNames()).toEqual(['a', 'b']);
  });

  it('merges per-shard seconds, weighting each reservoir by the samples it stands for', () => {
    const { recorder, clock } = recorderAt(0, { samplesPerBucket: 8, shardWindowSeconds: 10, random: seeded(3) });
    // Second 0: 8 samples of 10 ms (each stands for itself). Second 1: 1000 of 100 ms (each kept one stands for 125).
    for (let i = 0; i < 8; i++) recorder.record({ stage: 'shard_search', ms: 10, shard: 'shard-1' });
    clock.ms = 1_000;
    for (let i = 0; i < 1000; i++) recorder.record({ stage: 'shard_search', ms: 100, shard: 'shard-1' });
    recorder.record({ stage: 'shard_search', ms: 3, shard: 'shard-0' });
    recorder.record({ stage: 'retrieve', ms: 30, shard: 'shard-10' });
    expect(recorder.shardLatencies()).toEqual([
      { stage: 'retrieve', shard: 'shard-10', p50: 30, p99: 30, count: 1 },
      { stage: 'shard_search', shard: 'shard-0', p50: 3, p99: 3, count: 1 },
      { stage: 'shard_search', shard: 'shard-1', p50: 100, p99: 100, count: 1008 },
    ]);
    clock.ms = 10_500;
    expect(recorder.shardLatencies().map((s) => s.shard)).toEqual(['shard-10', 'shard-0', 'shard-1']);
    expect(recorder.shardLatencies().find((s) => s.shard === 'shard-1')!.count).toBe(1000);
    clock.ms = 11_000;
    expect(recorder.shardLatencies()).toEqual([]);
  });

  it('counts throughput per second and keeps the largest queue depth sampled in a second', () => {
    const { recorder, clock } = recorderAt(50_000);
    recorder.countRequest();
    recorder.countRequest();
    recorder.recordQueueDepth(3);
    recorder.recordQueueDepth(7);
    recorder.recordQueueDepth(2);
    clock.ms = 52_200;
    recorder.countRequest();
    recorder.recordQueueDepth(0);
    expect(recorder.throughput()).toEqual({ t: [50, 51, 52], rps: [2, 0, 1] });
    expect(recorder.queueDepth()).toEqual({ t: [50, 51, 52], depth: [7, null, 0] });
  });

  it('rejects options that are not positive integers', () => {
    expect(() => new StageRecorder({ windowSeconds: 0 })).toThrow('windowSeconds must be a positive integer, got 0');
    expect(() => new StageRecorder({ samplesPerBucket: 1.5 })).toThrow(/samplesPerBucket/);
  });
});
