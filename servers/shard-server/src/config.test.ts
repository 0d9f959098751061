import { describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthorizedError } from '@ragwire/protocol';
import { TokenTable, parseTokenSpec } from './auth';
import { isLoopbackHost, parseListen, resolveConfig } from './config';

describe('shard server configuration', () => {
  it('parses listen URLs', () => {
    expect(parseListen('tcp://127.0.0.1:0')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    expect(parseListen('tcp://[::1]:7070')).toEqual({ kind: 'tcp', host: '::1', port: 7070 });
    expect(parseListen('unix:///run/ragwire.sock')).toEqual({ kind: 'unix', path: '/run/ragwire.sock' });
    expect(parseListen('ucx://127.0.0.1:0')).toEqual({ kind: 'ucx', host: '127.0.0.1', port: 0 });
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
