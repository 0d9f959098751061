import { describe, expect, it } from 'vitest';
import { ConfigError, hasCode } from '@ragwire/protocol';
import { defaultSimConfig, resolveSimConfig } from './config';

function fieldOf(input: unknown): string {
  try {
    resolveSimConfig(input as never);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(hasCode(error, 'RAGWIRE_ERR_INVALID_ARGUMENT')).toBe(true);
    return (error as ConfigError).field;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('resolveSimConfig', () => {
  it('fills the documented defaults and freezes the result', () => {
    const c = resolveSimConfig({ stepBaseMs: 2 });
    expect(c.stepBaseMs).toBe(2);
    expect(c.maxNumSeqs).toBe(256);
    expect(c.port).toBe(8000);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(defaultSimConfig)).toBe(true);
  });

  it('refuses an unknown option, naming it', () => {
    expect(fieldOf({ stepBase: 2 })).toBe('stepBase');
    expect(() => resolveSimConfig({ stepBase: 2 } as never)).toThrow(/"stepBase": unknown field/);
  });

  it.each([
    [{ blockSize: 1.5 }, 'blockSize'],
    [{ port: 70_000 }, 'port'],
    [{ model: '' }, 'model'],
    [{ stepPerSeqMs: -1 }, 'stepPerSeqMs'],
    [{ legacyMetricNames: 'yes' }, 'legacyMetricNames'],
    [{ port: 65_535, replicas: 2 }, 'replicas'],
  ])('names the bad field in %j', (input, field) => {
    expect(fieldOf(input)).toBe(field);
  });
});
