/**
 * Token buckets, one per API key: `ratePerSecond` refill, `burst` capacity.
 * `take` answers 0 when a request may go, else the milliseconds until it may.
 */
export class KeyRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  take(key: string, ratePerSecond: number, burst: number, now = performance.now()): number {
    if (ratePerSecond <= 0) return 0;
    const capacity = burst > 0 ? burst : Math.max(1, ratePerSecond);
    const bucket = this.buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / ratePerSecond) * 1000);
  }
}
