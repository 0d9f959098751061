import type { Options } from 'tsup';

/** The one tsup preset every published package builds with: ESM + CJS, with .d.ts. */
export function packagePreset(entry: string[] = ['src/index.ts'], extra: Partial<Options> = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    shims: true,
    target: 'node20',
    ...extra,
  };
}

/** A server package: the library as ESM + CJS, its CLI as one ESM executable (it may await at top level). */
export function serverPreset(): Options[] {
  return [
    // The two builds run side by side: neither cleans dist (the build script does).
    packagePreset(['src/index.ts'], { clean: false }),
    { entry: ['src/cli.ts'], format: ['esm'], dts: false, sourcemap: true, clean: false, target: 'node20' },
  ];
}
