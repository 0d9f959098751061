import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, hasCode } from '@ragwire/protocol';
import { devices } from '@ragwire/native';
import { openStore } from './index';
import { DEFAULT_DEVICE_MIN_WORK, DEFAULT_EXACT_SCAN_BYTES, resolveStoreOptions } from './store-options';

function fieldOf(options: unknown): string {
  try {
    resolveStoreOptions(options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(hasCode(error, 'RAGWIRE_ERR_INVALID_ARGUMENT')).toBe(true);
    return (error as ConfigError).field;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

const dir = mkdtempSync(join(tmpdir(), 'ragwire-store-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('StoreOptions', () => {
  it('fills the documented defaults and freezes the result', () => {
    const o = resolveStoreOptions({ path: dir, compactRatio: 0.5 });
    expect(o).toMatchObject({
      path: dir,
      snapshotEveryOps: 10_000,
      compactRatio: 0.5,
      inlineSearchBudget: 2_000_000,
      exactScanBytes: DEFAULT_EXACT_SCAN_BYTES,
      device: 'cpu',
      deviceMinWork: DEFAULT_DEVICE_MIN_WORK,
      vectors: 'memory',
    });
    expect(typeof o.onRebuild).toBe('function');
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('keeps the caller’s onRebuild', () => {
    const onRebuild = () => undefined;
    expect(resolveStoreOptions({ path: dir, onRebuild }).onRebuild).toBe(onRebuild);
  });

  it('refuses an unknown option, naming it', () => {
    expect(fieldOf({ path: dir, snapshotEvery: 5 })).toBe('snapshotEvery');
  });

  it.each([
    [{ path: dir, snapshotEveryOps: '5' }, 'snapshotEveryOps'],
    [{ path: dir, snapshotEveryOps: 0 }, 'snapshotEveryOps'],
    [{ path: dir, compactRatio: 2 }, 'compactRatio'],
    [{ path: dir, exactScanBytes: -1 }, 'exactScanBytes'],
    [{ path: dir, device: 'tpu' }, 'device'],
    [{ path: dir, deviceMinWork: 1.5 }, 'deviceMinWork'],
    [{ path: dir, vectors: 'ssd' }, 'vectors'],
    [{ path: dir, onRebuild: 'warn' }, 'onRebuild'],
    [{}, 'path'],
  ])('names the bad field in %j', (options, field) => {
    expect(fieldOf(options)).toBe(field);
  });

  it('fails at open before touching the directory', async () => {
    const path = join(dir, 'never');
    await expect(openStore({ path, inlineSearchBudget: 1.5 })).rejects.toThrow(/store option "inlineSearchBudget"/);
    expect(existsSync(path)).toBe(false);
  });

  const absent = (['opencl', 'cuda'] as const).find((kind) => !devices().some((d) => d.kind === kind));
  it.skipIf(absent === undefined)(`refuses a device this machine lacks (${absent ?? 'none absent'}) at open, before touching the directory`, async () => {
    const path = join(dir, 'no-device');
    const error = await openStore({ path, device: absent! }).catch((e: unknown) => e);
    expect(hasCode(error, 'RAGWIRE_ERR_DEVICE_UNAVAILABLE')).toBe(true);
    expect(String(error)).toMatch(/store option "device"/);
    expect(existsSync(path)).toBe(false);
  });
});
