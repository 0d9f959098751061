// The engine links no optional system library: the OpenCL ICD loader and UCX are opened at first
// use, so the shipped binary loads on a machine without them, and only the feature that needs one
// says it is unavailable and what to install (docs/engine.md, "Optional system libraries").
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { devices, nativeBinaryPath, transports } from '@ragwire/native';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(join(here, '..', '..', 'package.json')).resolve('tsx');

function needed(binary: string): string[] {
  const out = execFileSync('readelf', ['-d', binary], { encoding: 'utf8' });
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

describe('optional system libraries', () => {
  it('the engine binary needs only the C and C++ runtimes', () => {
    const libs = needed(nativeBinaryPath());
    expect(libs.length).toBeGreaterThan(0);
    for (const lib of libs) expect(lib, `${nativeBinaryPath()} needs ${lib}`).toMatch(/^(libstdc\+\+|libm|libgcc_s|libc|libpthread|libdl|ld-linux[-\w]*)\.so/);
  });

  it('without OpenCL and UCX the engine loads, searches on the CPU, and names the missing library', () => {
    const empty = mkdtempSync(join(tmpdir(), 'ragwire-no-ucx-'));
    try {
      const out = execFileSync(process.execPath, ['--conditions=ragwire-source', '--import', tsx, join(here, 'optional-libraries-child.ts')], {
        env: { ...process.env, RAGWIRE_OPENCL_LIBRARY: join(empty, 'libOpenCL.so.1'), RAGWIRE_UCX_LIBDIR: empty },
        encoding: 'utf8',
        timeout: 60_000,
      });
      const report = JSON.parse(out.trim().split('\n').pop()!);
      expect(report.cpuLabel).toBe(2);
      expect(report.devices).toEqual(['cpu']);
      expect(report.opencl?.code).toBe('RAGWIRE_ERR_DEVICE_UNAVAILABLE');
      expect(report.opencl?.message).toContain('libOpenCL.so.1');
      expect(report.opencl?.message).toContain('ocl-icd-libopencl1');
      expect(report.ucx.available).toBe(false);
      expect(report.ucx.error).toContain('libucs.so.0');
      expect(report.ucx.error).toContain('RAGWIRE_UCX_LIBDIR');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('with them installed, as on this machine, both are found at first use', () => {
    // CI installs ocl-icd with PoCL and libucx (scripts/bootstrap.sh).
    expect(devices().map((d) => d.kind)).toContain('opencl');
    expect(transports().ucx.available).toBe(true);
  });
});
