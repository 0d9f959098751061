import { describe, expect, it } from 'vitest';
import { hasCode } from '@ragwire/protocol';
import { ConfigError, configFromEnv, resolveProxyConfig } from './config';

const base = { upstreams: ['http://127.0.0.1:8000/'] };

describe('resolveProxyConfig', () => {
  it('fills documented defaults, normalises upstreams and freezes deeply', () => {
    const c = resolveProxyConfig(base);
    expect(c.upstreams).toEqual(['http://127.0.0.1:8000']);
    expect(c.admission.maxQueue).toBe(256);
    expect(c.dashboard).toEqual({ enabled: true, windowSeconds: 300, abTimeoutMs: 120_000 });
    expect(Object.isFrozen(c.admission)).toBe(true);
  });

  it.each([
    [{ ...base, port: 70000 }, 'port'],
    [{ ...base, admission: { maxQueue: -1 } }, 'admission.maxQueue'],
    [{ ...base, admission: { maxConcurrencyPerUpstream: 1.5 } }, 'admission.maxConcurrencyPerUpstream'],
    [{ ...base, routing: { strategy: 'random' } }, 'routing.strategy'],
    [{ ...base, cache: { enabled: 'yes' } }, 'cache.enabled'],
    [{ ...base, retries: { maxAttemps: 2 } }, 'retries.maxAttemps'],
    [{ upstreams: ['ftp://x'] }, 'upstreams[0]'],
    [{}, 'upstreams'],
    [{ ...base, auth: { keys: [{ key: '' }] } }, 'auth.keys[0].key'],
    [{ ...base, dashboard: { enabled: 'no' } }, 'dashboard.enabled'],
    [{ ...base, dashboard: { windowSeconds: 7200 } }, 'dashboard.windowSeconds'],
    [{ ...base, dashboard: { windowSeconds: 0.5 } }, 'dashboard.windowSeconds'],
  ])('names the bad field in %j', (layer, field) => {
    let error: unknown;
    try {
      resolveProxyConfig(layer as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });

  it('layers file < env < flags', () => {
    const env = configFromEnv({ RAGWIRE_PROXY_PORT: '9000', RAGWIRE_PROXY_API_KEYS: 'a,b' });
    const c = resolveProxyConfig({ ...base, port: 1 }, env, { host: '0.0.0.0' });
    expect(c.port).toBe(9000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.auth.keys.map((k) => k.key)).toEqual(['a', 'b']);
  });
});

describe('proxy configuration schema', () => {
  function failure(...layers: unknown[]): ConfigError {
    try {
      resolveProxyConfig(...(layers as never[]));
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(hasCode(error, 'RAGWIRE_ERR_INVALID_ARGUMENT')).toBe(true);
      return error as ConfigError;
    }
    throw new Error(`accepted ${JSON.stringify(layers)}`);
  }

  it('refuses an unknown key, naming it and the known ones', () => {
    const e = failure({ ...base, retrys: { maxAttempts: 2 } });
    expect(e.field).toBe('retrys');
    expect(e.message).toMatch(/^config field "retrys": unknown field; expected one of host, port, /);
    expect(failure({ ...base, auth: { keys: [{ key: 'k', nmae: 'x' }] } }).field).toBe('auth.keys[0].nmae');
  });

  it('names the path of a wrong type, however deep, and in whichever layer it came', () => {
    const e = failure({ ...base, admission: { maxQueue: -3 } });
    expect(e.message).toBe('config field "admission.maxQueue": must be >= 0, got -3');
    expect(failure({ ...base, auth: { keys: [{ key: 'k', tokensPerDay: '5' }] } }).field).toBe('auth.keys[0].tokensPerDay');
    expect(failure({ ...base, auth: { keys: [{ key: 'k', shardTokens: { docs: 5 } }] } }).field).toBe('auth.keys[0].shardTokens.docs');
    expect(failure({ ...base, cache: 'on' }).field).toBe('cache');
    expect(failure(base, configFromEnv({ RAGWIRE_PROXY_PORT: 'eighty' })).field).toBe('port');
    expect(failure({ ...base, rag: { maxK: 20_000 } }).field).toBe('rag.maxK');
    expect(failure({ ...base, tracing: { sampleRatio: 1.5 } }).field).toBe('tracing.sampleRatio');
  });

  it('takes string keys, fills their defaults and freezes every level', () => {
    const c = resolveProxyConfig({ ...base, auth: { keys: ['sk-1' as never, { key: 'sk-2', name: 'b', models: ['m'] }] } });
    expect(c.auth.keys).toEqual([
      { key: 'sk-1', name: 'key0', requestsPerSecond: 0, burst: 0 },
      { key: 'sk-2', name: 'b', models: ['m'], requestsPerSecond: 0, burst: 0 },
    ]);
    expect(Object.isFrozen(c) && Object.isFrozen(c.auth.keys) && Object.isFrozen(c.auth.keys[1]!.models)).toBe(true);
    expect(() => {
      (c.routing as { strategy: string }).strategy = 'round-robin';
    }).toThrow(TypeError);
  });
});
