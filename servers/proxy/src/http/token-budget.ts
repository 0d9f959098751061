import { ProxyError, retryAfterHeaders } from '../errors';
import type { ProxyMetrics } from '../metrics';
import type { Tenant } from './tenants';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

interface Spend {
  minute: number;
  minuteTokens: number;
  /** UTC day number. */
  day: number;
  dayTokens: number;
}

/**
 * Tokens spent per key, in fixed windows (the clock minute, the UTC day),
 * counted from the usage upstreams report (streams included): a key whose
 * window is spent gets 429 `budget_exceeded` naming the window, with
 * `retry-after` until it turns. A request in flight when the budget runs out
 * finishes; the next one is refused. Spend per key is also in /metrics
 * (`ragwire_proxy_key_tokens_total`).
 */
export class TokenBudgets {
  private readonly spend = new Map<string, Spend>();

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws `budget_exceeded` when the tenant's minute or day is spent. */
  check(tenant: Tenant): void {
    if (tenant.tokensPerMinute <= 0 && tenant.tokensPerDay <= 0) return;
    const now = this.now();
    const s = this.current(tenant.name, now);
    if (tenant.tokensPerMinute > 0 && s.minuteTokens >= tenant.tokensPerMinute) {
      this.metrics.shed.inc({ model: '', reason: 'budget_minute' });
      throw new ProxyError(
        'budget_exceeded',
        `key "${tenant.name}" spent its ${tenant.tokensPerMinute} tokens per minute (${s.minuteTokens} used)`,
        null,
        retryAfterHeaders((s.minute + 1) * MINUTE_MS - now),
      );
    }
    if (tenant.tokensPerDay > 0 && s.dayTokens >= tenant.tokensPerDay) {
      this.metrics.shed.inc({ model: '', reason: 'budget_day' });
      throw new ProxyError(
        'budget_exceeded',
        `key "${tenant.name}" spent its ${tenant.tokensPerDay} tokens per day (${s.dayTokens} used; the day is UTC)`,
        null,
        retryAfterHeaders((s.day + 1) * DAY_MS - now),
      );
    }
  }

  /** Counts `tokens` the tenant spent. */
  charge(tenant: Tenant, tokens: number): void {
    if (!(tokens > 0)) return;
    this.metrics.keyTokens.inc({ key: tenant.name }, tokens);
    if (tenant.tokensPerMinute <= 0 && tenant.tokensPerDay <= 0) return;
    const s = this.current(tenant.name, this.now());
    s.minuteTokens += tokens;
    s.dayTokens += tokens;
  }

  /** Tokens the tenant spent in the current minute and day. */
  spent(tenant: Tenant): { minute: number; day: number } {
    const s = this.current(tenant.name, this.now());
    return { minute: s.minuteTokens, day: s.dayTokens };
  }

  private current(name: string, now: number): Spend {
    const minute = Math.floor(now / MINUTE_MS);
    const day = Math.floor(now / DAY_MS);
    let s = this.spend.get(name);
    if (!s) this.spend.set(name, (s = { minute, minuteTokens: 0, day, dayTokens: 0 }));
    if (s.minute !== minute) {
      s.minute = minute;
      s.minuteTokens = 0;
    }
    if (s.day !== day) {
      s.day = day;
      s.dayTokens = 0;
    }
    return s;
  }
}

const TOTAL = /"total_tokens"\s*:\s*(\d+)/g;

/** Where an answer's usage is looked for first: OpenAI's and vLLM's answers put `usage` last. */
const TAIL_CHARS = 1024;

/** Total tokens in an answer's usage (the last `total_tokens` in the text: a stream's final usage chunk), or 0. */
export function usageTokens(text: string): number {
  const last = (from: string) => {
    let found = -1;
    for (const m of from.matchAll(TOTAL)) found = Number(m[1]);
    return found;
  };
  if (text.length > TAIL_CHARS) {
    const inTail = last(text.slice(-TAIL_CHARS));
    if (inTail >= 0) return inTail;
  }
  return Math.max(0, last(text));
}
