import { describe, expect, it } from 'vitest';
import { configSchema, parseConfig } from './config';
import { ConfigError, hasCode, InvalidArgumentError } from './errors';

interface Sample {
  name: string;
  server: { port: number; hosts: string[] };
  byName: Record<string, { weight: number }>;
  onEvent?: () => void;
  handle?: object;
}

const schema = configSchema<Sample>({
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 80 },
        hosts: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
      },
    },
    byName: {
      type: 'object',
      default: {},
      additionalProperties: { type: 'object', additionalProperties: false, properties: { weight: { type: 'number', minimum: 0 } } },
    },
    onEvent: { instanceOf: 'Function' },
    handle: { instanceOf: 'Object' },
  },
});

function failure(input: unknown): ConfigError {
  try {
    parseConfig(schema, input, 'sample option');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(hasCode(error, 'RAGWIRE_ERR_INVALID_ARGUMENT')).toBe(true);
    return error as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('parseConfig', () => {
  it('fills defaults, deep-freezes plain data and leaves the input and objects it does not own alone', () => {
    const handle = new (class Handle {
      n = 1;
    })();
    const input = { name: 'a', server: { hosts: ['x'] }, handle, onEvent: () => undefined };
    const c = parseConfig(schema, input, 'sample option');
    expect(c.server).toEqual({ port: 80, hosts: ['x'] });
    expect(c.byName).toEqual({});
    expect(Object.isFrozen(c) && Object.isFrozen(c.server) && Object.isFrozen(c.server.hosts)).toBe(true);
    expect(c.handle).toBe(handle);
    expect(Object.isFrozen(handle)).toBe(false);
    expect(input.server).toEqual({ hosts: ['x'] });
    expect(Object.isFrozen(input)).toBe(false);
  });

  it('treats an undefined field as absent', () => {
    expect(parseConfig(schema, { name: 'a', server: { port: undefined } }, 'sample option').server.port).toBe(80);
  });

  it('refuses an unknown key, naming its path and the known ones', () => {
    const e = failure({ name: 'a', server: { prot: 1 } });
    expect(e.field).toBe('server.prot');
    expect(e.message).toBe('sample option "server.prot": unknown field; expected one of port, hosts');
    expect(failure({ name: 'a', colour: 1 }).field).toBe('colour');
  });

  it('names the path of a wrong type, in a list and under a mapping key', () => {
    expect(failure({ name: 'a', server: { port: '80' } }).field).toBe('server.port');
    expect(failure({ name: 'a', server: { hosts: ['x', ''] } }).field).toBe('server.hosts[1]');
    const e = failure({ name: 'a', byName: { 'rag/x': { weight: -1 } } });
    expect(e.field).toBe('byName["rag/x"].weight');
    expect(e.reason).toBe('must be >= 0, got -1');
  });

  it('names a missing required field and a value that is not a function', () => {
    expect(failure({}).field).toBe('name');
    expect(failure({ name: 'a', onEvent: 1 }).field).toBe('onEvent');
    expect(failure(null).field).toBe('(root)');
  });
});
