import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file the dashboard serves, read once at start. */
export interface DashboardAsset {
  contentType: string;
  body: Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The page's own files, in the package's `dashboard/` folder. */
const PAGE_FILES = ['index.html', 'dashboard.js', 'dashboard.css'];

/**
 * The package's `dashboard/` folder: beside `src/` when running from source
 * (tests, tsx), beside `dist/` when built; both are one package root away.
 */
function pageDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', '..', 'dashboard'), join(here, '..', 'dashboard')];
  const found = candidates.find((dir) => PAGE_FILES.every((f) => existsSync(join(dir, f))));
  if (!found) throw new Error(`the dashboard's files (${PAGE_FILES.join(', ')}) are in none of ${candidates.join(', ')}`);
  return found;
}

function asset(path: string): DashboardAsset {
  const ext = path.slice(path.lastIndexOf('.'));
  return { contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream', body: readFileSync(path) };
}

/**
 * Reads the dashboard's files: the page (`index.html`, its script and
 * stylesheet) and uPlot's browser build from node_modules. Keyed by the name
 * served under /dashboard/assets/ (`index.html` is the page itself). Nothing
 * is fetched from the network, and nothing needs a build step.
 */
export function loadDashboardAssets(): Map<string, DashboardAsset> {
  const dir = pageDirectory();
  const require = createRequire(import.meta.url);
  const assets = new Map<string, DashboardAsset>();
  for (const file of PAGE_FILES) assets.set(file, asset(join(dir, file)));
  assets.set('uPlot.iife.min.js', asset(require.resolve('uplot/dist/uPlot.iife.min.js')));
  assets.set('uPlot.min.css', asset(require.resolve('uplot/dist/uPlot.min.css')));
  return assets;
}
