// Which binary the loader picks, in better-sqlite3's order: RAGWIRE_NATIVE_PATH,
// then the shipped prebuild for this platform, then a local build; with none,
// a NativeLoadError that says how to build from source.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NativeLoadError } from '@ragwire/protocol';
import { nativeBinaryPath } from '@ragwire/native';
import { prebuildPath, resolveBinaryPath } from '../lib/binding';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A package root holding the given files (empty stand-ins: resolving does not load them). */
function packageWith(...files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'ragwire-binding-'));
  roots.push(root);
  for (const f of files) {
    const path = f.startsWith('/') ? f : join(root, f);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  }
  return root;
}

describe('native binary resolution', () => {
  const local = 'build/Release/ragwire_native.node';

  it('takes an explicit RAGWIRE_NATIVE_PATH first', () => {
    const root = packageWith(local);
    const explicit = join(root, 'elsewhere.node');
    writeFileSync(explicit, '');
    expect(resolveBinaryPath({ RAGWIRE_NATIVE_PATH: explicit }, root)).toBe(explicit);
    expect(() => resolveBinaryPath({ RAGWIRE_NATIVE_PATH: join(root, 'absent.node') }, root)).toThrow(NativeLoadError);
  });

  it('prefers the shipped prebuild to a local build, and falls back to the local build', () => {
    const root = packageWith(local);
    mkdirSync(dirname(prebuildPath(root)), { recursive: true });
    expect(resolveBinaryPath({}, root)).toBe(join(root, local));
    writeFileSync(prebuildPath(root), '');
    expect(resolveBinaryPath({}, root)).toBe(prebuildPath(root));
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(prebuildPath(root)).toBe(join(root, 'prebuilds', 'linux-x64', 'ragwire_native.glibc.node'));
    }
  });

  it('without any binary, says how to build from source and what that needs', () => {
    const root = packageWith();
    let caught: unknown;
    try {
      resolveBinaryPath({}, root);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NativeLoadError);
    expect((caught as Error).message).toMatch(/cmake-js compile/);
    expect((caught as Error).message).toMatch(/C\+\+17 compiler/);
  });

  it('this workspace loads its prebuild (scripts/prebuild.mjs copies every local build there)', () => {
    if (process.env.RAGWIRE_NATIVE_PATH) return expect(nativeBinaryPath()).toBe(process.env.RAGWIRE_NATIVE_PATH);
    expect(nativeBinaryPath()).toBe(prebuildPath(join(dirname(new URL(import.meta.url).pathname), '..')));
  });
});
