import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ProxyError, proxyErrors, retryAfterHeaders } from './errors';

const DOC = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url));

describe('proxy error table', () => {
  it('matches the proxy section of docs/errors.md, sorted by code', () => {
    const section = readFileSync(DOC, 'utf8').split('## Proxy errors')[1] ?? '';
    const rows = section
      .split('\n')
      .filter((l) => /^\| `[a-z_]+` \|/.test(l))
      .map((l) => {
        const [code, type, status] = l
          .split('|')
          .slice(1, 4)
          .map((s) => s.trim());
        return { code: code!.replaceAll('`', ''), type, status: Number(status) };
      });
    const expected = Object.entries(proxyErrors)
      .map(([code, e]) => ({ code, type: e.type, status: e.status }))
      .sort((a, b) => a.code.localeCompare(b.code));
    expect(rows).toEqual(expected);
  });

  it('serializes to the OpenAI shape', () => {
    const e = new ProxyError('invalid_request', 'stream must be a boolean', 'stream');
    expect(e.status).toBe(400);
    expect(e.toJSON()).toEqual({ error: { message: 'stream must be a boolean', type: 'invalid_request_error', param: 'stream', code: 'invalid_request' } });
  });

  it('is an Error without a captured stack, and leaves the stack limit as it found it', () => {
    const limit = Error.stackTraceLimit;
    const e = new ProxyError('queue_full', 'model "m" is overloaded');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ProxyError');
    expect(e.stack).toBe('ProxyError: model "m" is overloaded');
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('a fault').stack).toContain('errors.test.ts');
  });

  it('rounds retry-after up to whole seconds, at least 1', () => {
    expect(retryAfterHeaders(120)).toEqual({ 'retry-after': '1', 'retry-after-ms': '120' });
    expect(retryAfterHeaders(2500)).toEqual({ 'retry-after': '3', 'retry-after-ms': '2500' });
  });
});
