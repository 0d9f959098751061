import { describe, expect, it } from 'vitest';
import type { ProxyError } from '../errors';
import { ProxyMetrics } from '../metrics';
import { hashKey, tenantEntry } from './tenants';
import { TokenBudgets, usageTokens } from './token-budget';

const tenant = tenantEntry({ key: 'k', name: 'alpha', tokensPerMinute: 100, tokensPerDay: 250 }, 'keys[0]', 0)[1];

describe('token budgets', () => {
  it('refuses a key whose minute is spent, names the window, and restores it when the minute turns', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 10);
    const budgets = new TokenBudgets(new ProxyMetrics(false), () => now);
    budgets.check(tenant);
    budgets.charge(tenant, 60);
    budgets.check(tenant);
    budgets.charge(tenant, 60);
    const error = (() => {
      try {
        budgets.check(tenant);
      } catch (e) {
        return e as ProxyError;
      }
    })();
    expect(error?.code).toBe('budget_exceeded');
    expect(error?.status).toBe(429);
    expect(error?.message).toMatch(/100 tokens per minute \(120 used\)/);
    expect(Number(error?.headers['retry-after-ms'])).toBe(50_000);
    now += 50_000; // the next minute
    expect(() => budgets.check(tenant)).not.toThrow();
    budgets.charge(tenant, 99);
    budgets.charge(tenant, 40); // 259 today
    now += 60_000;
    expect(() => budgets.check(tenant)).toThrow(/250 tokens per day/);
    now = Date.UTC(2026, 0, 2, 0, 0, 1); // the next UTC day
    expect(() => budgets.check(tenant)).not.toThrow();
    expect(budgets.spent(tenant)).toEqual({ minute: 0, day: 0 });
  });

  it('reads the last total_tokens of an answer or a stream', () => {
    expect(usageTokens('{"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}')).toBe(7);
    expect(usageTokens('data: {"usage":null}\n\ndata: {"choices":[],"usage":{"total_tokens": 12}}\n\ndata: [DONE]\n\n')).toBe(12);
    expect(usageTokens('no usage')).toBe(0);
  });

  it('holds keys as sha256 hashes', () => {
    expect(hashKey('sk-1')).toMatch(/^sha256:[0-9a-f]{64}$/);
    const [hash] = tenantEntry({ keyHash: hashKey('sk-1') } as never, 'keys[0]', 0);
    expect(hash).toBe(hashKey('sk-1'));
    expect(() => tenantEntry({ keyHash: 'md5:x' } as never, 'keys[0]', 0)).toThrow(/keys\[0\]\.keyHash/);
  });
});
