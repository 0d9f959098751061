import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_LIMITS,
  INDEX_PARAM_RANGES,
  MAX_FILTER_KEY_BYTES,
  MAX_FILTER_STRING_CHARS,
  NativeLoadError,
  errorClassesByCode,
  wireDirections,
  type ProtocolLimits,
} from '@ragwire/protocol';

/** A search's arguments as the addon takes them (index.ts builds them once for search and searchSync). */
type NativeSearchArgs = readonly [
  queries: Float32Array,
  k: number,
  efSearch?: number,
  rerankFactor?: number,
  filterScanThreshold?: number,
  filter?: Uint8Array | Uint32Array,
  exact?: boolean,
  onDevice?: boolean,
];

type NativeSearchResult = { labels: Uint32Array; scores: Float32Array; k: number };

/** The raw addon surface (see src/binding). Callers use the typed wrappers in index.ts. */
export interface NativeIndexHandle {
  add(labels: Uint32Array, vectors: Float32Array): Promise<void>;
  search(...args: NativeSearchArgs): Promise<NativeSearchResult>;
  searchSync(...args: NativeSearchArgs): NativeSearchResult;
  remove(labels: Uint32Array): Promise<number>;
  compact(): Promise<void>;
  save(path: string, userData?: Uint8Array): Promise<void>;
  stats(): Record<string, unknown>;
  close(): void;
}

export interface NativeAddon {
  NativeIndex: new (config: Record<string, unknown>) => NativeIndexHandle;
  loadIndex(path: string, device?: string, deviceTileRows?: number, vectorsPath?: string): Promise<{ index: NativeIndexHandle; userData: Uint8Array | null }>;
  initialize(errorClasses: Record<string, unknown>, limits: EngineLimits, messageTypes: [number, boolean, boolean][], protocolLimits: DataPlaneLimits): void;
  isa(): string;
  devices(): Record<string, unknown>[];
  threads(): number;
  measureReadBandwidth(bytes?: number): number;
}

/** What the addon refuses, as [min, max] pairs (src/binding/addon.cpp): below min is RAGWIRE_ERR_INVALID_ARGUMENT, above max RAGWIRE_ERR_LIMIT. */
type EngineLimits = Record<'dim' | 'k' | keyof typeof INDEX_PARAM_RANGES, readonly [number, number]>;

/** The protocol's limits table, the one the TS checks use, handed to the addon so that both refuse alike. */
const ENGINE_LIMITS: EngineLimits = {
  ...INDEX_PARAM_RANGES,
  dim: [1, DEFAULT_LIMITS.maxDim],
  k: [1, DEFAULT_LIMITS.maxK],
};

/** What the native data plane's decoders refuse: the protocol's limits and its filter caps (src/dataplane/query_decoder.hpp). */
export type DataPlaneLimits = ProtocolLimits & { maxFilterKeyBytes: number; maxFilterStringChars: number };

/** `limits` (a server's protocol limits) with the filter caps, as the data plane's decoders take them. */
export function dataPlaneLimits(limits: ProtocolLimits): DataPlaneLimits {
  return { ...limits, maxFilterKeyBytes: MAX_FILTER_KEY_BYTES, maxFilterStringChars: MAX_FILTER_STRING_CHARS };
}

const DATA_PLANE_LIMITS: DataPlaneLimits = dataPlaneLimits(DEFAULT_LIMITS);

function packageRoot(): string {
  // lib/ (source) and dist/ (built) both sit one level below the package root.
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  return join(here, '..');
}

/** The C library a Linux Node links: a prebuild is built against one of them. */
function libc(): 'glibc' | 'musl' | undefined {
  if (process.platform !== 'linux') return undefined;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** Where this package ships the prebuilt engine for this platform: prebuilds/<platform>-<arch>/ragwire_native[.<libc>].node. */
export function prebuildPath(root = packageRoot()): string {
  const tag = libc();
  return join(root, 'prebuilds', `${process.platform}-${process.arch}`, `ragwire_native${tag ? `.${tag}` : ''}.node`);
}

/**
 * The binary to load, in better-sqlite3's order: an explicit path
 * (RAGWIRE_NATIVE_PATH), then the prebuild shipped for this platform, then a
 * local source build (build/Release). Throws NativeLoadError saying how to
 * build from source when none exists.
 */
export function resolveBinaryPath(env: NodeJS.ProcessEnv = process.env, root = packageRoot()): string {
  const explicit = env.RAGWIRE_NATIVE_PATH;
  if (explicit) {
    if (!existsSync(explicit)) throw new NativeLoadError(`RAGWIRE_NATIVE_PATH names ${explicit}, which does not exist`);
    return explicit;
  }
  const candidates = [prebuildPath(root), join(root, 'build', 'Release', 'ragwire_native.node')];
  const found = candidates.find((file) => existsSync(file));
  if (found) return found;
  throw new NativeLoadError(
    `no native engine for ${process.platform}-${process.arch}${libc() ? ` (${libc()})` : ''}: neither a prebuild nor a local build exists ` +
      `(looked at ${candidates.join(', ')}). Build it from source in ${root} with \`npx cmake-js compile --out build\` ` +
      '(needs cmake >= 3.15, a C++17 compiler such as g++ or clang++, and the npm packages cmake-js, node-addon-api and node-api-headers; ' +
      'Debian: apt-get install cmake g++), or set RAGWIRE_NATIVE_PATH to a built ragwire_native.node.',
  );
}

/**
 * The engine links UCX, whose libraries set up when they are loaded: they patch the process's memory
 * functions (mmap, munmap, brk) and take over SIGSEGV for their own error reports. Under V8 both have
 * crashed plain processes that never use ucx:// (a shard server at start, an app on the prebuild), and
 * frames are copied into UCX-owned memory, so nothing needs them. They are read from the environment
 * when the addon is loaded, so they are turned off here, first; a user's own setting wins.
 */
function preventUcxHooks(): void {
  process.env.UCX_MEM_EVENTS ??= 'no';
  process.env.UCX_MEM_MALLOC_HOOKS ??= 'no';
  process.env.UCX_HANDLE_ERRORS ??= 'none';
}

let addon: NativeAddon | undefined;
let loadedFrom: string | undefined;

/** Loads the compiled engine once and hands it the error classes, the limits table and the message types. */
export function native(): NativeAddon {
  if (addon) return addon;
  const file = resolveBinaryPath();
  preventUcxHooks();
  try {
    const require = createRequire(join(packageRoot(), 'package.json'));
    addon = require(file) as NativeAddon;
  } catch (cause) {
    const message = (cause as Error).message;
    throw new NativeLoadError(`cannot load the native engine from ${file}: ${message}`, { cause });
  }
  addon.initialize(errorClassesByCode, ENGINE_LIMITS, wireDirections(), DATA_PLANE_LIMITS);
  loadedFrom = file;
  return addon;
}

/** The file the engine was loaded from (loading it first): which binary answers, for diagnostics and tests. */
export function nativeBinaryPath(): string {
  native();
  return loadedFrom!;
}
