// Issue 12 §6, what users install: every published package is packed
// (`pnpm pack`, workspace:* rewritten to versions), the tarballs are installed
// with plain `npm install` into a fresh project outside the workspace, and from
// there the LangChain swap-in example runs on the embedded store (on the
// prebuilt engine the native package ships: nothing is compiled) and the
// published `ragwire-shard` bin serves a query.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJsonProcess } from '@ragwire/processes';
import { REPO_ROOT, killAll, tempDir } from './processes';

const run = promisify(execFile);
const PNPM = ['--yes', 'pnpm@10.34.9'];
const tsx = createRequire(join(REPO_ROOT, 'package.json')).resolve('tsx');
const FIXTURES = join(REPO_ROOT, 'test', 'src', 'fixtures', 'packed-app');
const EXAMPLE = join(REPO_ROOT, 'examples', 'langchain-rag');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  bin?: Record<string, string>;
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Manifest;

/** Every non-private workspace package: the ones a user installs from the registry. */
function publishedPackages(): { dir: string; manifest: Manifest }[] {
  const dirs = ['native', ...['packages', 'servers'].flatMap((top) => readdirSync(join(REPO_ROOT, top)).map((d) => join(top, d)))];
  return dirs.map((dir) => ({ dir: join(REPO_ROOT, dir), manifest: read(join(REPO_ROOT, dir, 'package.json')) })).filter((p) => !p.manifest.private);
}

const work = tempDir('packed');
const tarballs = join(work.path, 'tarballs');
const app = join(work.path, 'app');
let packed: { name: string; tarball: string }[] = [];

/** Runs a TypeScript file of the fresh project with its own node_modules (tsx only transpiles). */
async function runInApp(script: string, args: string[] = []): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['--import', tsx, join(app, 'src', script), ...args], { cwd: app, timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

beforeAll(async () => {
  const packages = publishedPackages();
  expect(packages.map((p) => p.manifest.name)).toContain('@ragwire/native');
  packed = await Promise.all(
    packages.map(async ({ dir, manifest }) => {
      const { stdout } = await run('npx', [...PNPM, 'pack', '--pack-destination', tarballs], { cwd: dir, timeout: 180_000 });
      const tarball = stdout.trim().split('\n').pop()!.trim();
      return { name: manifest.name, tarball };
    }),
  );
  // The fresh project: the tarballs, plus what the example itself imports from the registry.
  const example = read(join(EXAMPLE, 'package.json'));
  const dependencies: Record<string, string> = Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`]));
  for (const dep of ['@langchain/classic', '@langchain/core']) dependencies[dep] = example.dependencies![dep]!;
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'ragwire-packed-app', private: true, type: 'module', dependencies }, null, 2));
  for (const f of ['app-memory.ts', 'app-ragwire.ts', 'corpus.ts']) copyFileSync(join(EXAMPLE, 'src', f), join(app, 'src', f));
  for (const f of ['swap-in.ts', 'query-shard.ts']) copyFileSync(join(FIXTURES, f), join(app, 'src', f));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    timeout: 600_000,
    // no workspace, no pnpm: what `npm install @ragwire/...` does for a user
    env: { ...process.env, npm_config_workspaces: 'false', npm_config_ignore_scripts: 'false' },
  });
}, 900_000);

afterAll(() => {
  killAll();
  work.cleanup();
});

describe('the published packages, installed from their tarballs', () => {
  it('carry no workspace: protocol in their manifests', () => {
    for (const { name } of packed) {
      const manifest = read(join(app, 'node_modules', name, 'package.json'));
      const specs = { ...manifest.dependencies, ...manifest.peerDependencies };
      for (const [dep, spec] of Object.entries(specs)) expect(spec, `${name} -> ${dep}`).not.toMatch(/^workspace:/);
    }
  });

  it('run the LangChain swap-in example on the embedded store, on the shipped prebuilt engine', async () => {
    const out = (await runInApp('swap-in.ts')) as {
      answers: { memory: { texts: string[]; sources: string[] }; ragwire: { texts: string[]; sources: string[] } }[];
      native: string;
      isa: string;
    };
    expect(out.answers.length).toBe(4);
    for (const a of out.answers) {
      expect(a.ragwire.texts.length).toBe(3);
      expect(a.ragwire.texts).toEqual(a.memory.texts);
      expect(a.ragwire.sources).toEqual(a.memory.sources);
    }
    const nativeDir = realpathSync(join(app, 'node_modules', '@ragwire', 'native'));
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(realpathSync(out.native)).toBe(join(nativeDir, 'prebuilds', 'linux-x64', 'ragwire_native.glibc.node'));
    }
    // Nothing was compiled at install time: the package holds no local build.
    expect(readdirSync(nativeDir)).not.toContain('build');
    expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(out.isa);
  });

  it('start a shard server with the published ragwire-shard bin and answer a query through it', async () => {
    const bin = realpathSync(join(app, 'node_modules', '.bin', 'ragwire-shard'));
    expect(bin.startsWith(realpathSync(join(app, 'node_modules')))).toBe(true);
    const shard = await startJsonProcess({
      name: 'ragwire-shard (packed)',
      args: [bin, '--data', join(work.path, 'shard-data'), '--listen', 'tcp://127.0.0.1:0'],
      cwd: app,
      ready: (json) => json?.msg === 'ragwire-shard listening',
    });
    try {
      const address = (shard.announcement.addresses as string[])[0]!;
      const out = (await runInApp('query-shard.ts', [address])) as { ids: string[]; scores: number[]; partial: boolean };
      expect(out.ids).toEqual(['a', 'b']);
      expect(out.scores[0]).toBeCloseTo(-1, 5);
      expect(out.partial).toBe(false);
    } finally {
      await shard.stop();
    }
  });
});
