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
