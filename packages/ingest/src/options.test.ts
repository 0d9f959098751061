import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveIngestOptions } from './options';

describe('resolveIngestOptions', () => {
  it('fills in the documented defaults', () => {
    expect(resolveIngestOptions({ inputs: ['docs'], cwd: '/data' })).toEqual({
      inputs: ['docs'],
      chunkSize: 1000,
      chunkOverlap: 150,
      batchSize: 64,
      concurrency: 4,
      maxFileBytes: 10 * 1024 * 1024,
      baseDir: path.resolve('/data'),
      cwd: path.resolve('/data'),
    });
    expect(resolveIngestOptions({ inputs: ['d'], cwd: '/data', baseDir: 'docs' }).baseDir).toBe(path.resolve('/data/docs'));
  });

  it.each([
    [{ inputs: [] }, /inputs must list/],
    [{ inputs: [''] }, /inputs must list/],
    [{ inputs: ['d'], chunkSize: 0 }, /chunkSize must be a positive integer, got 0/],
    [{ inputs: ['d'], chunkSize: 100, chunkOverlap: 100 }, /chunkOverlap must be an integer in 0..99/],
    [{ inputs: ['d'], chunkOverlap: -1 }, /chunkOverlap/],
    [{ inputs: ['d'], batchSize: 1.5 }, /batchSize must be an integer of at least 1, got 1.5/],
    [{ inputs: ['d'], concurrency: 0 }, /concurrency must be a positive integer/],
    [{ inputs: ['d'], maxFileBytes: -5 }, /maxFileBytes/],
  ])('refuses %j with InvalidArgumentError naming the field', (options, message) => {
    expect(() => resolveIngestOptions(options)).toThrow(
      expect.objectContaining({ code: 'RAGWIRE_ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) }),
    );
  });

  it('refuses a batchSize above the protocol write batch with LimitExceededError', () => {
    expect(() => resolveIngestOptions({ inputs: ['d'], batchSize: 20_000 })).toThrow(
      expect.objectContaining({ code: 'RAGWIRE_ERR_LIMIT', message: 'batchSize must be at most 16384, got 20000' }),
    );
  });
});
