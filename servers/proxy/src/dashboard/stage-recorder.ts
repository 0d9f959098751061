/**
 * Rolling per-second latency statistics for the dashboard: for each stage
 * (`embed`, `generate`, `retrieve`, ...) one bucket per second over the last
 * `windowSeconds`, each holding the second's sample count and a uniform
 * reservoir of at most `samplesPerBucket` latencies, from which the second's
 * p50 and p99 are read. Samples with a `shard` label also feed a short
 * per-(stage, shard) window. Throughput (requests per second) and queue depth
 * are kept per second beside them.
 *
 * Memory is bounded whatever the traffic: at most `maxStages` x `windowSeconds`
 * x `samplesPerBucket` latencies for stages and `maxShardSeries` x
 * `shardWindowSeconds` x `samplesPerBucket` for shards, allocated only for
 * seconds that saw samples.
 */

/** The stages the proxy records itself: they always have room on the dashboard. */
export const PROXY_STAGES: readonly string[] = [
  'embed',
  'generate',
  'generate_ttft',
  'pool',
  'tokenize',
  'rag_embed',
  'rag_retrieve',
  'rag_rerank',
  'rag_prompt',
  'rag_ttft',
];

export interface StageSample {
  /** Stage name, such as `embed`, `generate_ttft` or `retrieve`. */
  stage: string;
  /** Duration in milliseconds. */
  ms: number;
  /** Shard label, for stages that run once per shard. */
  shard?: string;
  /** When the stage ended, epoch ms; default now. */
  at?: number;
}

export interface StageRecorderOptions {
  /** Seconds of history kept. */
  windowSeconds?: number; // 300 s
  /** Latencies kept per stage per second (a uniform reservoir beyond). */
  samplesPerBucket?: number; // 256 samples
  /** Distinct stage names accepted (the reserved ones not counted); more are refused. */
  maxStages?: number; // 32 stages
  /** Stage names that always have room (the proxy's own), whatever others opened. */
  reserved?: readonly string[];
  /** Distinct (stage, shard) pairs accepted; more are refused. */
  maxShardSeries?: number; // 64 pairs
  /** Seconds the per-shard statistics cover. */
  shardWindowSeconds?: number; // 10 s
  /** Clock, epoch ms. */
  now?: () => number;
  /** Uniform [0, 1) source for reservoir sampling. */
  random?: () => number;
}

/** One stage's per-second series over the window: seconds that saw no sample are left out. */
export interface StageSeries {
  /** Epoch seconds. */
  t: number[];
  p50: number[];
  p99: number[];
  count: number[];
}

/** Latency of one (stage, shard) pair over the shard window. */
export interface ShardLatency {
  stage: string;
  shard: string;
  p50: number;
  p99: number;
  count: number;
}

/** Requests per second over the window, every second present (0 when idle). */
export interface ThroughputSeries {
  t: number[];
  rps: number[];
}

/** Largest sampled queue depth of each second; null where no sample was taken. */
export interface QueueDepthSeries {
  t: number[];
  depth: (number | null)[];
}

/** One second of one series. */
class Bucket {
  second = -1;
  count = 0;
  filled = 0;
  samples: Float64Array | undefined;
  private cached: { p50: number; p99: number } | undefined;

  reset(second: number): void {
    this.second = second;
    this.count = 0;
    this.filled = 0;
    this.cached = undefined;
  }

  add(ms: number, capacity: number, random: () => number): void {
    this.samples ??= new Float64Array(capacity);
    this.count++;
    this.cached = undefined;
    if (this.filled < capacity) {
      this.samples[this.filled++] = ms;
      return;
    }
    // Algorithm R: the n-th sample replaces a random slot with probability capacity / n.
    const slot = Math.floor(random() * this.count);
    if (slot < capacity) this.samples[slot] = ms;
  }

  /** p50 and p99 of the second, cached until the next sample. */
  percentiles(): { p50: number; p99: number } {
    if (!this.cached) {
      const sorted = this.samples!.slice(0, this.filled).sort();
      this.cached = { p50: nearestRank(sorted, 0.5), p99: nearestRank(sorted, 0.99) };
    }
    return this.cached;
  }
}

/** A ring of per-second buckets; a slot is reused once its second falls out of the ring. */
class BucketRing {
  private readonly buckets: Bucket[];

  constructor(readonly seconds: number) {
    this.buckets = Array.from({ length: seconds }, () => new Bucket());
  }

  at(second: number): Bucket {
    const bucket = this.buckets[second % this.seconds]!;
    if (bucket.second !== second) bucket.reset(second);
    return bucket;
  }

  /** Buckets with samples from `from` to `to` (epoch seconds, inclusive), oldest first. */
  live(from: number, to: number): Bucket[] {
    const out: Bucket[] = [];
    for (const bucket of this.buckets) if (bucket.count > 0 && bucket.second >= from && bucket.second <= to) out.push(bucket);
    return out.sort((a, b) => a.second - b.second);
  }
}

/** The value at rank ceil(q * n) of sorted values (nearest-rank percentile). */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Percentile over several buckets' reservoirs, each sample weighted by the share of its second it stands for. */
function mergedPercentiles(buckets: Bucket[]): { p50: number; p99: number; count: number } {
  const values: { ms: number; weight: number }[] = [];
  let count = 0;
  for (const b of buckets) {
    count += b.count;
    const weight = b.count / b.filled;
    for (let i = 0; i < b.filled; i++) values.push({ ms: b.samples![i]!, weight });
  }
  values.sort((a, b) => a.ms - b.ms);
  const at = (q: number) => {
    const target = q * count;
    let seen = 0;
    for (const v of values) {
      seen += v.weight;
      if (seen >= target - 1e-9) return v.ms;
    }
    return values[values.length - 1]!.ms;
  };
  return { p50: at(0.5), p99: at(0.99), count };
}

const SHARD_KEY = '\u0000';

export class StageRecorder {
  readonly windowSeconds: number;
  readonly shardWindowSeconds: number;
  private readonly samplesPerBucket: number;
  private readonly maxStages: number;
  private readonly maxShardSeries: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly reserved: ReadonlySet<string>;
  private readonly stages = new Map<string, BucketRing>();
  private readonly shards = new Map<string, BucketRing>();
  private readonly requests: Float64Array;
  private readonly requestSeconds: Float64Array;
  private readonly depth: Float64Array;
  private readonly depthSeconds: Float64Array;
  private readonly startSecond: number;

  constructor(options: StageRecorderOptions = {}) {
    this.windowSeconds = positiveInteger('windowSeconds', options.windowSeconds ?? 300);
    this.shardWindowSeconds = positiveInteger('shardWindowSeconds', options.shardWindowSeconds ?? 10);
    this.samplesPerBucket = positiveInteger('samplesPerBucket', options.samplesPerBucket ?? 256);
    this.maxStages = positiveInteger('maxStages', options.maxStages ?? 32);
    this.maxShardSeries = positiveInteger('maxShardSeries', options.maxShardSeries ?? 64);
    this.reserved = new Set(options.reserved ?? []);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.requests = new Float64Array(this.windowSeconds);
    this.requestSeconds = new Float64Array(this.windowSeconds).fill(-1);
    this.depth = new Float64Array(this.windowSeconds);
    this.depthSeconds = new Float64Array(this.windowSeconds).fill(-1);
    this.startSecond = this.second();
  }

  /** Whether a sample of this stage (and shard) would be kept, or refused for too many distinct series. */
  hasRoomFor(stage: string, shard?: string): boolean {
    if (!this.stages.has(stage) && !this.reserved.has(stage) && this.openStages() >= this.maxStages) return false;
    return shard === undefined || this.shards.has(stage + SHARD_KEY + shard) || this.shards.size < this.maxShardSeries;
  }

  /**
   * Records one stage duration. Returns false, keeping nothing, when the
   * sample is older than the window, its duration is not a finite number
   * >= 0, or it would open a series beyond `maxStages` / `maxShardSeries`.
   * A timestamp ahead of the clock counts as now.
   */
  record(sample: StageSample): boolean {
    const { stage, ms, shard } = sample;
    if (!Number.isFinite(ms) || ms < 0 || !this.hasRoomFor(stage, shard)) return false;
    const current = this.second();
    const second = Math.min(current, this.second(sample.at));
    if (second <= current - this.windowSeconds) return false;
    let ring = this.stages.get(stage);
    if (!ring) this.stages.set(stage, (ring = new BucketRing(this.windowSeconds)));
    ring.at(second).add(ms, this.samplesPerBucket, this.random);
    if (shard !== undefined && second > current - this.shardWindowSeconds) {
      const key = stage + SHARD_KEY + shard;
      let shardRing = this.shards.get(key);
      if (!shardRing) this.shards.set(key, (shardRing = new BucketRing(this.shardWindowSeconds)));
      shardRing.at(second).add(ms, this.samplesPerBucket, this.random);
    }
    return true;
  }

  /**
   * Unreserved stages open, after dropping those with no sample left in the
   * window: a series someone stopped feeding frees its room.
   */
  private openStages(): number {
    let open = 0;
    const { from, to } = this.range();
    for (const [name, ring] of this.stages) {
      if (this.reserved.has(name)) continue;
      if (ring.live(from, to).length === 0) this.stages.delete(name);
      else open++;
    }
    return open;
  }

  /** Counts one answered request towards throughput. */
  countRequest(at?: number): void {
    const second = Math.min(this.second(), this.second(at));
    const slot = second % this.windowSeconds;
    if (this.requestSeconds[slot] !== second) {
      this.requestSeconds[slot] = second;
      this.requests[slot] = 0;
    }
    this.requests[slot]!++;
  }

  /** Records a queue-depth sample; a second keeps the largest it saw. */
  recordQueueDepth(depth: number, at?: number): void {
    const second = Math.min(this.second(), this.second(at));
    const slot = second % this.windowSeconds;
    if (this.depthSeconds[slot] !== second) {
      this.depthSeconds[slot] = second;
      this.depth[slot] = depth;
    } else if (depth > this.depth[slot]!) {
      this.depth[slot] = depth;
    }
  }

  /** Stage names with at least one sample in the window, sorted. */
  stageNames(): string[] {
    const { from, to } = this.range();
    return [...this.stages]
      .filter(([, ring]) => ring.live(from, to).length > 0)
      .map(([name]) => name)
      .sort();
  }

  /** Per-second p50 / p99 / count of one stage over the window. */
  stageSeries(stage: string): StageSeries {
    const series: StageSeries = { t: [], p50: [], p99: [], count: [] };
    const ring = this.stages.get(stage);
    if (!ring) return series;
    const { from, to } = this.range();
    for (const bucket of ring.live(from, to)) {
      const { p50, p99 } = bucket.percentiles();
      series.t.push(bucket.second);
      series.p50.push(p50);
      series.p99.push(p99);
      series.count.push(bucket.count);
    }
    return series;
  }

  /** p50 / p99 / count per (stage, shard) over the last `shardWindowSeconds`, sorted by stage then shard. */
  shardLatencies(): ShardLatency[] {
    const to = this.second();
    const from = to - this.shardWindowSeconds + 1;
    const out: ShardLatency[] = [];
    for (const [key, ring] of this.shards) {
      const buckets = ring.live(from, to);
      if (buckets.length === 0) continue;
      const [stage, shard] = key.split(SHARD_KEY) as [string, string];
      out.push({ stage, shard, ...mergedPercentiles(buckets) });
    }
    const collator = new Intl.Collator('en', { numeric: true });
    return out.sort((a, b) => collator.compare(a.stage, b.stage) || collator.compare(a.shard, b.shard));
  }

  /** Requests per second from the recorder's start (or the window's edge) to now. */
  throughput(): ThroughputSeries {
    const series: ThroughputSeries = { t: [], rps: [] };
    for (const second of this.seconds()) {
      const slot = second % this.windowSeconds;
      series.t.push(second);
      series.rps.push(this.requestSeconds[slot] === second ? this.requests[slot]! : 0);
    }
    return series;
  }

  /** Queue depth per second from the recorder's start (or the window's edge) to now. */
  queueDepth(): QueueDepthSeries {
    const series: QueueDepthSeries = { t: [], depth: [] };
    for (const second of this.seconds()) {
      const slot = second % this.windowSeconds;
      series.t.push(second);
      series.depth.push(this.depthSeconds[slot] === second ? this.depth[slot]! : null);
    }
    return series;
  }

  /** Latencies held in memory, over every series (expired seconds included until their slot is reused). */
  retainedSamples(): number {
    let total = 0;
    for (const ring of [...this.stages.values(), ...this.shards.values()]) {
      for (const bucket of ring.live(-Infinity, Infinity)) total += bucket.filled;
    }
    return total;
  }

  private second(at?: number): number {
    return Math.floor((at ?? this.now()) / 1000);
  }

  /** The window in epoch seconds, both ends included. */
  private range(): { from: number; to: number } {
    const current = this.second();
    return { from: current - this.windowSeconds + 1, to: current };
  }

  private *seconds(): Generator<number> {
    const current = this.second();
    for (let s = Math.max(this.startSecond, current - this.windowSeconds + 1); s <= current; s++) yield s;
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
