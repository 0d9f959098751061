import { describe, expect, it } from 'vitest';
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
