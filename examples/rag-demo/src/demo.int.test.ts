// The README's main command, run for real: child processes, sockets, the simulator, the proxy.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemoStack } from './stack';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=ragwire-source', '--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The numbers of the per-stage table's row `label` (ms). */
function stageRow(stdout: string, label: string): number[] {
  const section = stdout.slice(stdout.indexOf('per-stage latency'));
  const line = section.split('\n').find((l) => l.startsWith(`${label} `));
  expect(line, `row ${label} in:\n${section}`).toBeDefined();
  return line!.trim().split(/\s+/).slice(1).map(Number);
}

describe('the end-to-end demo (--once)', () => {
  const data = mkdtempSync(join(tmpdir(), 'ragwire-demo-test-'));
  dirs.push(data);
  const common = ['--once', '--port', '0', '--data', data, '--sim-replicas', '1', '--max-tokens', '16'];

  it('ingests the docs, answers through the chain with per-stage latency and an A/B, on the embedded store', async () => {
    const run = await runDemo(common);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/vllm-sim \(a simulator/);
    expect(run.stdout).toMatch(/embedded store in this process/);
    const ingested = /ingested (\d+) files: (\d+) new or changed, (\d+) unchanged, (\d+) failed; (\d+) vectors/.exec(run.stdout);
    expect(ingested, run.stdout).not.toBeNull();
    const [files, fresh, , failed, vectors] = [1, 2, 3, 4, 5].map((i) => Number(ingested![i]));
    expect(files).toBeGreaterThanOrEqual(5);
    expect(fresh).toBe(files);
    expect(failed).toBe(0);
    expect(vectors).toBeGreaterThan(files!);
    // Six answers, each with sources from the ingested docs.
    const sources = [...run.stdout.matchAll(/^ {3}sources: (.+)$/gm)].map((m) => m[1]!);
    expect(sources).toHaveLength(6);
    for (const s of sources) expect(s).toMatch(/(docs\/\w+\.md|README\.md)/);
    expect(run.stdout).toMatch(/answer: {2}\S+/);
    // embed, retrieve, search (one store), merge, TTFT, generate, total: all measured, consistent.
    const [embed, retrieve, search, merge, ttft, generate, total] = stageRow(run.stdout, 'p50');
    for (const v of [embed, retrieve, search, ttft, generate, total]) expect(v).toBeGreaterThan(0);
    expect(merge).toBeGreaterThanOrEqual(0);
    expect(search!).toBeLessThanOrEqual(retrieve!);
    expect(ttft!).toBeLessThanOrEqual(generate!);
    expect(total!).toBeGreaterThanOrEqual(embed! + retrieve!);
    expect(run.stdout).toMatch(/A\/B: ".+"\n.*HTTP\/JSON baseline\s+ragwire\s+speedup/);
    expect(run.stdout).toMatch(/^total\s+[\d.]+\s+[\d.]+\s+[\d.]+x$/m);
  });

  it('skips unchanged files on a second run', async () => {
    const run = await runDemo(common);
    expect(run.code, run.stderr).toBe(0);
    const m = /ingested (\d+) files: (\d+) new or changed, (\d+) unchanged, (\d+) failed; (\d+) vectors/.exec(run.stdout);
    expect(m, run.stdout).not.toBeNull();
    expect(Number(m![2])).toBe(0);
    expect(Number(m![3])).toBe(Number(m![1]));
    expect(Number(m![5])).toBe(0);
  });

  it('runs over 2 shard servers with per-shard latency', async () => {
    const run = await runDemo([...common, '--shards', '2']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/2 shard servers at tcp:\/\/127\.0\.0\.1:\d+, tcp:\/\/127\.0\.0\.1:\d+/);
    const [, retrieve, shard0, shard1, merge] = stageRow(run.stdout, 'p50');
    expect(shard0).toBeGreaterThan(0);
    expect(shard1).toBeGreaterThan(0);
    expect(merge).toBeGreaterThanOrEqual(0);
    expect(Math.max(shard0!, shard1!)).toBeLessThanOrEqual(retrieve!);
  });
});

describe('the demo with --server-side (the proxy does the RAG)', () => {
  it('answers through rag/<model> with the plain openai SDK, sources from the proxy, and an A/B against the client-side chain', async () => {
    const data = mkdtempSync(join(tmpdir(), 'ragwire-demo-server-side-'));
    dirs.push(data);
    const run = await runDemo(['--once', '--port', '0', '--data', data, '--sim-replicas', '1', '--max-tokens', '16', '--server-side']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/server-side RAG: the proxy retrieves for model rag\/ragwire\/sim-8b/);
    const sources = [...run.stdout.matchAll(/^ {3}sources: (.+)$/gm)].map((m) => m[1]!);
    expect(sources).toHaveLength(6);
    for (const s of sources) expect(s).toMatch(/(docs\/\w+\.md|README\.md)/);
    const [embed, retrieve, merge, ttft, generate, total] = stageRow(run.stdout, 'p50');
    for (const v of [embed, retrieve, ttft, generate, total]) expect(v).toBeGreaterThan(0);
    expect(merge).toBeNaN(); // the proxy reports no merge time of its own: the table shows '-'
    expect(total!).toBeGreaterThanOrEqual(embed! + retrieve!);
    expect(run.stdout).toMatch(/A\/B: ".+"\n.*client-side chain \(ragwire\)\s+RAG in the proxy\s+speedup/);
  });
});

describe('the demo stack behind the dashboard', () => {
  it("answers the dashboard's A/B with both paths' stages, and shows the retrieval stages it recorded", async () => {
    const data = mkdtempSync(join(tmpdir(), 'ragwire-demo-ab-'));
    dirs.push(data);
    const root = join(dirname(MAIN), '..', '..', '..');
    const stack = await startDemoStack({
      shards: 0,
      upstreams: [],
      simReplicas: 1,
      dataDir: data,
      corpus: [join(root, 'docs')],
      corpusRoot: root,
      collection: 'docs',
      port: 0,
      embeddingModel: 'ragwire/sim-embed',
      k: 3,
      maxTokens: 8,
      log: () => undefined,
    });
    try {
      await stack.ask('How does the proxy shed overload?');
      const response = await fetch(`${stack.proxy.url}/dashboard/api/ab`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ question: 'What is a shard server?' }),
      });
      expect(response.status).toBe(200);
      const report = (await response.json()) as {
        baseline: { label: string; totalMs: number; stages: Record<string, number> };
        ragwire: typeof report.baseline;
        speedup: number;
      };
      expect(report.baseline.label).toBe('HTTP/JSON baseline');
      expect(report.ragwire.label).toBe('ragwire');
      for (const run of [report.baseline, report.ragwire]) {
        for (const stage of ['embed', 'retrieve', 'ttft', 'generate']) expect(run.stages[stage]).toBeGreaterThan(0);
        expect(run.totalMs).toBeGreaterThan(run.stages.generate!);
      }
      expect(report.speedup).toBeCloseTo(report.baseline.totalMs / report.ragwire.totalMs, 6);
      const series = (await (await fetch(`${stack.proxy.url}/dashboard/api/series`)).json()) as { stages: Record<string, { count: number[] }> };
      for (const stage of ['retrieve', 'merge', 'embed', 'generate_ttft']) {
        expect(
          series.stages[stage]?.count.reduce((a, b) => a + b, 0),
          stage,
        ).toBeGreaterThanOrEqual(2);
      }
    } finally {
      await stack.close();
    }
  });
});
