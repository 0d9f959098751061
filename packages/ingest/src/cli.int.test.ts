// `ragwire ingest` as a real child process, against an embedded store and two shard servers, with the vllm-sim endpoint.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ShardedCollection } from '@ragwire/client';
import { startShardServer, type ShardServer } from '@ragwire/shard-server';
import { startSim, type RunningSim } from '@ragwire/vllm-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestReport } from './report';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let sim: RunningSim;
let embeddingsUrl: string;
let root: string;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ragwire <args>` from source in `root`, stdout and stderr piped (not a terminal). */
function ragwire(args: string[]): Promise<CliResult> {
  const env = { ...process.env };
  for (const k of ['RAGWIRE_EMBEDDINGS_URL', 'OPENAI_BASE_URL', 'RAGWIRE_EMBEDDINGS_MODEL', 'OPENAI_API_KEY', 'RAGWIRE_TOKEN']) delete env[k];
  const child = spawn(process.execPath, ['--conditions=ragwire-source', '--import', TSX, CLI, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function write(rel: string, content: string | Uint8Array): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

const SUMMARY =
  /^ragwire ingest: (\d+) files: (\d+) ingested, (\d+) skipped \(unchanged\), (\d+) failed; (\d+) chunks, (\d+) vectors written, (\d+) old chunks removed in [\d.]+ s \([\d.]+ vectors\/s\) into "([^"]+)"$/;

function summary(stdout: string) {
  const lines = stdout.trimEnd().split('\n');
  const m = SUMMARY.exec(lines.at(-1)!);
  expect(m, `last line: ${lines.at(-1)}`).not.toBeNull();
  const [files, ingested, skipped, failed, chunks, vectors, removed] = m!.slice(1, 8).map(Number);
  return { files, ingested, skipped, failed, chunks, vectors, removed, collection: m![8], lines };
}

async function countIn(shards: string[][], collection: string): Promise<number> {
  const c = new ShardedCollection({ shards, collection });
  try {
    return (await c.describe()).count;
  } finally {
    await c.close();
  }
}

beforeAll(async () => {
  sim = await startSim({ port: 0 });
  embeddingsUrl = `${sim.urls[0]}/v1`;
  root = mkdtempSync(path.join(tmpdir(), 'ragwire-ingest-cli-'));
  write(
    'docs/guide.md',
    `# Guide\n\n${'Shards hold partitions of the vectors; the client merges the top-k. '.repeat(40)}\n\n## More\n\nThe proxy batches embeddings.\n`,
  );
  write('docs/notes.txt', 'Plain notes about latency and throughput.\n'.repeat(30));
  write('docs/sub/faq.md', '# FAQ\n\nWhat is ragwire?\n');
});

afterAll(async () => {
  await sim?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('ragwire ingest (child process, output not a terminal)', () => {
  it('ingests into an embedded store, prints one line per file and a summary, and exits 1 when a file failed', async () => {
    write('docs/logo.txt', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00]));
    const r = await ragwire(['ingest', 'docs', '--collection', 'docs', '--data', 'data', '--embeddings-url', embeddingsUrl]);
    expect(r.code, r.stderr).toBe(1);
    const s = summary(r.stdout);
    expect(s).toMatchObject({ files: 4, ingested: 3, skipped: 0, failed: 1, removed: 0, collection: 'docs' });
    expect(s.vectors).toBe(s.chunks);
    expect(s.chunks).toBeGreaterThan(3);
    expect(s.lines[0]).toBe('ragwire ingest: 4 files');
    const fileLines = s.lines.slice(1, -1).map((l) => l.replace(/^\[\d\/4\] /, ''));
    expect(fileLines.sort()).toEqual([
      'failed docs/logo.txt: file_binary: a NUL byte at offset 4: a binary file, not text',
      expect.stringMatching(/^ingested docs\/guide\.md \(\d+ chunks, \d+ vectors written\)$/),
      expect.stringMatching(/^ingested docs\/notes\.txt \(\d+ chunks, \d+ vectors written\)$/),
      'ingested docs/sub/faq.md (1 chunks, 1 vectors written)',
    ]);
    expect(r.stdout).not.toContain('\u001b['); // no terminal escapes when not a TTY
    expect(await countIn([[`embedded://${path.join(root, 'data')}`]], 'docs')).toBe(s.chunks);
  });

  it('skips unchanged files on a re-run; exits 0 once no file fails, and --json prints the report', async () => {
    const again = await ragwire(['ingest', 'docs', '--collection', 'docs', '--data', 'data', '--embeddings-url', embeddingsUrl]);
    expect(again.code).toBe(1);
    expect(summary(again.stdout)).toMatchObject({ files: 4, ingested: 0, skipped: 3, failed: 1, vectors: 0 });
    unlinkSync(path.join(root, 'docs/logo.txt'));
    const json = await ragwire(['ingest', 'docs', '--collection', 'docs', '--data', 'data', '--embeddings-url', embeddingsUrl, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as IngestReport;
    expect(report).toMatchObject({ collection: 'docs', files: 3, ingested: 0, skipped: 3, failed: [], vectors: 0 });
  });

  it('exits 2 on bad usage or configuration, saying why', async () => {
    const cases: [string[], RegExp][] = [
      [['ingest', 'docs', '--data', 'data'], /required option '--collection <name>'/],
      [['ingest', 'docs', '--collection', 'c', '--shards', 'tcp://127.0.0.1:1', '--data', 'data'], /--shards or --data, not both/],
      [['ingest', 'no-such-dir', '--collection', 'c', '--data', 'data', '--embeddings-url', embeddingsUrl], /input_not_found/],
      [
        ['ingest', 'docs', '--collection', 'c', '--data', 'data', '--chunk-size', '100', '--chunk-overlap', '100'],
        /chunkOverlap must be an integer in 0\.\.99/,
      ],
      [['ingest', 'docs', '--collection', 'c', '--data', 'data', '--batch', 'many'], /expected a positive integer, got "many"/],
      [['ingest', 'docs', '--collection', 'c', '--data', 'data', '--embeddings-url', 'http://127.0.0.1:9/v1'], /embeddings_unavailable/],
    ];
    const results = await Promise.all(cases.map(([args]) => ragwire(args)));
    results.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
  });
});

describe('ragwire ingest --shards (two shard servers)', () => {
  const servers: ShardServer[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      servers.push(await startShardServer({ listen: ['tcp://127.0.0.1:0'], dataDir: path.join(root, `shard${i}`), logLevel: 'silent' }));
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('spreads the chunks over both shards, and a re-run skips every file', async () => {
    const shards = servers.map((s) => s.addresses[0]!);
    const args = [
      'ingest',
      'docs/**/*.md',
      'docs/notes.txt',
      '--collection',
      'sharded',
      '--shards',
      shards.join(','),
      '--embeddings-url',
      embeddingsUrl,
      '--chunk-size',
      '200',
      '--chunk-overlap',
      '20',
    ];
    const r = await ragwire(args);
    expect(r.code, r.stderr).toBe(0);
    const s = summary(r.stdout);
    expect(s).toMatchObject({ files: 3, ingested: 3, failed: 0 });
    expect(s.chunks).toBeGreaterThan(10);
    const perShard = await Promise.all(shards.map((url) => countIn([[url]], 'sharded')));
    expect(perShard.every((n) => n > 0)).toBe(true);
    expect(perShard[0]! + perShard[1]!).toBe(s.chunks);
    const again = await ragwire(args);
    expect(again.code).toBe(0);
    expect(summary(again.stdout)).toMatchObject({ files: 3, ingested: 0, skipped: 3, vectors: 0 });
  });
});
