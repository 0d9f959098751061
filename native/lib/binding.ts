import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeLoadError, errorClassesByCode } from '@ragwire/protocol';

/** The raw addon surface (see src/binding). Callers use the typed wrappers in index.ts. */
export interface NativeIndexHandle {
  add(labels: Uint32Array, vectors: Float32Array): Promise<void>;
  search(
    queries: Float32Array, k: number, efSearch?: number, rerankFactor?: number,
    filterScanThreshold?: number, filter?: Uint8Array | Uint32Array, exact?: boolean,
  ): Promise<{ labels: Uint32Array; scores: Float32Array; k: number }>;
  searchSync(
    queries: Float32Array, k: number, efSearch?: number, rerankFactor?: number,
    filterScanThreshold?: number, filter?: Uint8Array | Uint32Array, exact?: boolean,
  ): { labels: Uint32Array; scores: Float32Array; k: number };
  remove(labels: Uint32Array): Promise<number>;
  compact(): Promise<void>;
  save(path: string, userData?: Uint8Array): Promise<void>;
  stats(): Record<string, unknown>;
  close(): void;
}

export interface NativeAddon {
  NativeIndex: new (config: Record<string, unknown>) => NativeIndexHandle;
  loadIndex(path: string, device?: string, deviceTileRows?: number): Promise<{ index: NativeIndexHandle; userData: Uint8Array | null }>;
  initialize(errorClasses: Record<string, unknown>): void;
  isa(): string;
  devices(): Record<string, unknown>[];
  threads(): number;
  measureReadBandwidth(bytes?: number): number;
}

function packageRoot(): string {
  // lib/ (source) and dist/ (built) both sit one level below the package root.
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  return join(here, '..');
}

let addon: NativeAddon | undefined;

/** Loads the compiled engine once and hands it the error classes. */
export function native(): NativeAddon {
  if (addon) return addon;
  const file = process.env.RAGWIRE_NATIVE_PATH ?? join(packageRoot(), 'build', 'Release', 'ragwire_native.node');
  if (!existsSync(file)) {
    throw new NativeLoadError(`the native engine is not built (${file} is missing): run \`pnpm --filter @ragwire/native build\``);
  }
  try {
    const require = createRequire(join(packageRoot(), 'package.json'));
    addon = require(file) as NativeAddon;
  } catch (cause) {
    throw new NativeLoadError(`cannot load the native engine from ${file}: ${(cause as Error).message}`, { cause });
  }
  addon.initialize(errorClassesByCode);
  return addon;
}
