// Copies the local build (build/Release/ragwire_native.node) to where the
// package ships it for this platform, prebuilds/<platform>-<arch>/ragwire_native[.<libc>].node
// (the naming lib/binding.ts loads first). Run by `build` and before `pack`.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'build', 'Release', 'ragwire_native.node');
if (!existsSync(built)) {
  console.error(`prebuild: ${built} is missing: run \`pnpm build:addon\` first`);
  process.exit(1);
}
const glibc = process.platform === 'linux' ? (process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl') : undefined;
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const target = join(dir, `ragwire_native${glibc ? `.${glibc}` : ''}.node`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
copyFileSync(built, target);
console.log(`prebuild: ${target}`);
