import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LIMITS, ForbiddenError, hasCode, UnauthorizedError } from '@ragwire/protocol';
import { TokenTable, parseTokenSpec } from './auth';
import { isLoopbackHost, parseListen, resolveConfig } from './config';

describe('shard server configuration', () => {
  it('parses listen URLs', () => {
    expect(parseListen('tcp://127.0.0.1:0')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    expect(parseListen('tcp://[::1]:7070')).toEqual({ kind: 'tcp', host: '::1', port: 7070 });
    expect(parseListen('unix:///run/ragwire.sock')).toEqual({ kind: 'unix', path: '/run/ragwire.sock' });
    expect(parseListen('ucx://127.0.0.1:0')).toEqual({ kind: 'ucx', host: '127.0.0.1', port: 0 });
    expect(parseListen('native+tcp://127.0.0.1:0')).toEqual({ kind: 'native-tcp', host: '127.0.0.1', port: 0 });
    expect(parseListen('native+tcp://[::1]:7070')).toEqual({ kind: 'native-tcp', host: '::1', port: 7070 });
    expect(() => parseListen('native+tcp://host')).toThrow(/needs a host and a port/);
    expect(() => parseListen('http://x:1')).toThrow(/unsupported scheme/);
    expect(() => parseListen('tcp://host')).toThrow(/needs a host and a port/);
  });

  it('refuses a non-loopback address without tokens, naming the field', () => {
    expect(() => resolveConfig({ listen: ['tcp://0.0.0.0:7070'], dataDir: '/tmp/x' })).toThrow(/listen\[0\].*loopback/);
    expect(() => resolveConfig({ listen: ['tcp://127.0.0.1:0', 'ucx://0.0.0.0:7071'], dataDir: '/tmp/x' })).toThrow(/listen\[1\].*loopback/);
    expect(() => resolveConfig({ listen: ['tcp://127.0.0.1:0'], dataDir: '/tmp/x', admin: '0.0.0.0:9090' })).toThrow(/admin.*loopback/);
    expect(resolveConfig({ listen: ['tcp://0.0.0.0:7070'], dataDir: '/tmp/x', tokens: ['secret-token-1'] }).tokens).toHaveLength(1);
    expect(isLoopbackHost('127.0.0.2')).toBe(true);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
  });

  it('needs exactly one of dataDir and store, and positive integers', () => {
    expect(() => resolveConfig({ listen: ['tcp://127.0.0.1:0'] })).toThrow(/dataDir/);
    expect(() => resolveConfig({ listen: ['tcp://127.0.0.1:0'], dataDir: '/x', drainTimeoutMs: -1 })).toThrow(/drainTimeoutMs/);
    expect(() => resolveConfig({ listen: [], dataDir: '/x' })).toThrow(/listen/);
  });
});

const base = { listen: ['tcp://127.0.0.1:0'], dataDir: '/tmp/x' };

function fieldOf(options: unknown): string {
  try {
    resolveConfig(options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(hasCode(error, 'RAGWIRE_ERR_INVALID_ARGUMENT')).toBe(true);
    return (error as ConfigError).field;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('shard server options schema', () => {
  it('fills defaults and freezes the result deeply', () => {
    const c = resolveConfig({ ...base, fleet: { nats: ['nats://127.0.0.1:4222'] }, connectionLimits: { maxConnections: 8 } });
    expect(c.maxInFlightPerConnection).toBe(1024);
    expect(c.drainTimeoutMs).toBe(10_000);
    expect(c.limits).toBe(DEFAULT_LIMITS);
    expect(c.connectionLimits.maxConnections).toBe(8);
    expect(c.connectionLimits.maxUnsentReplyBytes).toBe(2 * DEFAULT_LIMITS.maxFrameBytes);
    expect(c.device).toBeUndefined();
    expect(resolveConfig({ ...base, device: 'opencl', deviceMinWork: 0 })).toMatchObject({ device: 'opencl', deviceMinWork: 0 });
    expect(c.vectors).toBeUndefined();
    expect(resolveConfig({ ...base, vectors: 'disk' }).vectors).toBe('disk');
    expect(Object.isFrozen(c) && Object.isFrozen(c.listen[0]) && Object.isFrozen(c.fleet!.nats) && Object.isFrozen(c.connectionLimits)).toBe(true);
  });

  it('refuses unknown options, naming the path', () => {
    expect(fieldOf({ ...base, drainTimeout: 5 })).toBe('drainTimeout');
    expect(fieldOf({ ...base, limits: { maxk: 5 } })).toBe('limits.maxk');
    expect(fieldOf({ ...base, connectionLimits: { maxConnection: 5 } })).toBe('connectionLimits.maxConnection');
    expect(fieldOf({ ...base, fleet: { nats: ['nats://a:1'], heartbeat: 5 } })).toBe('fleet.heartbeat');
  });

  it.each([
    [{ ...base, maxInFlightPerConnection: '8' }, 'maxInFlightPerConnection'],
    [{ ...base, metricsOpenOnLoopback: 'yes' }, 'metricsOpenOnLoopback'],
    [{ ...base, logLevel: 'loud' }, 'logLevel'],
    [{ ...base, limits: { maxDim: 0 } }, 'limits.maxDim'],
    [{ ...base, limits: { maxFrameBytes: 2 ** 33 } }, 'limits.maxFrameBytes'],
    [{ ...base, connectionLimits: { helloTimeoutMs: 1.5 } }, 'connectionLimits.helloTimeoutMs'],
    [{ ...base, connectionLimits: { maxUnsentReplyBytes: 10 } }, 'connectionLimits.maxUnsentReplyBytes'],
    [{ ...base, fleet: { nats: ['http://a:1'] } }, 'fleet.nats[0]'],
    [{ ...base, fleet: { nats: ['nats://a:1'], member: 'a b' } }, 'fleet.member'],
    [{ ...base, fleet: { nats: ['nats://a:1'], readyMaxLag: 0 } }, 'fleet.readyMaxLag'],
    [{ ...base, fleet: {} }, 'fleet.nats'],
    [{ ...base, tokens: [{ token: 'long-enough', scope: 'root', collection: '*' }] }, 'tokens[0].scope'],
    [{ ...base, tokens: ['short'] }, 'tokens[0]'],
    [{ ...base, listen: ['tcp://127.0.0.1:0', 7] }, 'listen[1]'],
    [{ ...base, device: 'tpu' }, 'device'],
    [{ ...base, deviceMinWork: -1 }, 'deviceMinWork'],
    [{ listen: base.listen, store: {}, device: 'opencl' }, 'device'],
    [{ ...base, vectors: 'ssd' }, 'vectors'],
    [{ listen: base.listen, store: {}, vectors: 'disk' }, 'vectors'],
  ])('names the bad field in %j', (options, field) => {
    expect(fieldOf(options)).toBe(field);
  });
});

describe('tokens', () => {
  it('parses TOKEN[:scope[:collection]]', () => {
    expect(parseTokenSpec('abcdefgh')).toEqual({ token: 'abcdefgh', scope: 'admin', collection: '*' });
    expect(parseTokenSpec('abcdefgh:read:docs')).toEqual({ token: 'abcdefgh', scope: 'read', collection: 'docs' });
    expect(() => parseTokenSpec('short')).toThrow(/at least 8/);
    expect(() => parseTokenSpec('abcdefgh:root')).toThrow(/read, write or admin/);
  });

  it('grants scopes by rank and collection', () => {
    const table = new TokenTable([parseTokenSpec('writer-token:write:docs'), parseTokenSpec('writer-token:read:logs'), parseTokenSpec('admin-token1')]);
    const w = table.authenticate('writer-token');
    expect(w.may('read', 'docs')).toBe(true);
    expect(w.may('write', 'docs')).toBe(true);
    expect(w.may('admin', 'docs')).toBe(false);
    expect(w.may('read', 'logs')).toBe(true);
    expect(w.may('write', 'logs')).toBe(false);
    expect(w.may('read', undefined)).toBe(false);
    expect(() => w.check('admin', 'docs')).toThrow(ForbiddenError);
    expect(table.authenticate('admin-token1').may('admin', undefined)).toBe(true);
    expect(() => table.authenticate('nope-nope-nope')).toThrow(UnauthorizedError);
    expect(() => table.authenticate(undefined)).toThrow(UnauthorizedError);
  });
});
