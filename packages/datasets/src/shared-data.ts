/**
 * The real vector sets in the shared data folder (`../shared/data` beside the
 * repository root; its README describes the files). Loaders return null when
 * the folder or a file is absent, so callers can skip with a message.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBvecsFile, readIvecsFile, readRawFloat32File } from './texmex';
import type { Dataset } from './types';

function repoRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** Absolute path of `../shared/data` next to the repository root, or null when there is none. */
export function sharedDataDir(): string | null {
  const root = repoRoot();
  if (root === null) return null;
  const dir = resolve(root, '..', 'shared', 'data');
  return existsSync(dir) && statSync(dir).isDirectory() ? dir : null;
}

function files(names: string[]): string[] | null {
  const dir = sharedDataDir();
  if (dir === null) return null;
  const paths = names.map((n) => join(dir, n));
  return paths.every((p) => existsSync(p)) ? paths : null;
}

/**
 * bigann10k: 10,000 real SIFT descriptors (128-d, uint8 decoded to float32), 100 queries
 * (identical to base rows 0..99), exact L2 top-100 ground truth.
 */
export function loadBigann10k(): Dataset | null {
  const paths = files(['bigann10k_base.bvecs', 'bigann10k_query.bvecs', 'bigann10k_groundtruth.ivecs']);
  if (paths === null) return null;
  const [basePath, queryPath, gtPath] = paths as [string, string, string];
  const base = readBvecsFile(basePath);
  const queries = readBvecsFile(queryPath);
  const gt = readIvecsFile(gtPath);
  if (queries.dim !== base.dim) throw new RangeError(`bigann10k: query dim ${queries.dim} != base dim ${base.dim}`);
  if (gt.count !== queries.count) throw new RangeError(`bigann10k: ${gt.count} ground-truth rows for ${queries.count} queries`);
  return {
    name: 'bigann10k',
    dim: base.dim,
    metric: 'l2',
    base: base.data,
    queries: queries.data,
    nBase: base.count,
    nQueries: queries.count,
    groundTruth: gt.data,
    gtK: gt.dim,
  };
}

const BGE_DIM = 1024;
const BGE_BASE_ROWS = 400;

/**
 * bge-m3 sentence embeddings: 1024-d, unit norm, cosine. Base = rows 0..399,
 * queries = rows 400..499 of the same file, exact cosine top-10 ground truth.
 * About 20 near-duplicate pairs exist, so top-10 boundaries can tie.
 */
export function loadBgeM3Sentence(): Dataset | null {
  const paths = files(['bge-m3-1024-sentence.queries.vec', 'bge-m3-1024-sentence.split400-100.gt10.ivecs']);
  if (paths === null) return null;
  const [vecPath, gtPath] = paths as [string, string];
  const all = readRawFloat32File(vecPath, BGE_DIM);
  const rows = all.length / BGE_DIM;
  const gt = readIvecsFile(gtPath);
  const nQueries = rows - BGE_BASE_ROWS;
  if (gt.count !== nQueries) throw new RangeError(`bge-m3: ${gt.count} ground-truth rows for ${nQueries} queries`);
  return {
    name: 'bge-m3-sentence',
    dim: BGE_DIM,
    metric: 'cosine',
    base: all.slice(0, BGE_BASE_ROWS * BGE_DIM),
    queries: all.slice(BGE_BASE_ROWS * BGE_DIM),
    nBase: BGE_BASE_ROWS,
    nQueries,
    groundTruth: gt.data,
    gtK: gt.dim,
  };
}
