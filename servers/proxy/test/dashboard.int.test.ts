import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index';
import { CHAT_MODEL, directVersusProxy, EMBED_MODEL } from './chat-ab';
import { startSimProcess, type SimProcess } from './processes';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../../.ci/out/dashboard.png', import.meta.url));
/** The bound: traffic shows on the charts within 2 s. */
const UPDATE_WITHIN_MS = 2_000;

let sim: SimProcess;
let proxy: RunningProxy;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not at ${CHROMIUM}: this test drives a real headless browser. Install Debian's chromium package (scripts/bootstrap.sh does as root) or set CHROMIUM_PATH.`,
    );
  }
  sim = await startSimProcess();
  proxy = await startProxy({ upstreams: sim.urls, port: 0, logLevel: 'silent' }, undefined, { dashboard: directVersusProxy(sim.urls[0]!, () => proxy.url) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${proxy.url}/dashboard`);
  await page.waitForSelector('#status.live', { timeout: 5_000 });
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await sim?.stop();
});

/** What a chart last drew, from its data-* attributes. */
function chartState(id: string): Promise<Record<string, string>> {
  return page.$eval(`#${id}`, (el) => ({ ...(el as HTMLElement).dataset }) as Record<string, string>);
}

const valueAt = (testId: string) => page.getAttribute(`[data-testid="${testId}"]`, 'data-value').then(Number);

describe('the dashboard in a real browser', () => {
  it('updates its charts and shard table within 2 s of traffic', async () => {
    const stagesBefore = await chartState('stage-chart');
    const loadBefore = await chartState('load-chart');
    expect(Number(stagesBefore.points)).toBe(0);

    const client = new OpenAI({ apiKey: 'unused', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    await Promise.all(['alpha', 'beta', 'gamma'].map((input) => client.embeddings.create({ model: EMBED_MODEL, input })));
    for (let i = 0; i < 2; i++) {
      const stream = await client.chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: `tell me about shard ${i}` }],
        max_tokens: 12,
        stream: true,
      });
      for await (const _ of stream) {
        /* drain */
      }
    }
    const samples = [
      { stage: 'shard_search', ms: 2.5, shard: 'shard-0' },
      { stage: 'shard_search', ms: 4.75, shard: 'shard-1' },
      { stage: 'retrieve', ms: 6 },
      { stage: 'merge', ms: 0.3 },
    ];
    const posted = await fetch(`${proxy.url}/dashboard/api/stages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ samples }),
    });
    expect(posted.status).toBe(200);
    const sent = Date.now();

    await page.waitForFunction(
      ({ before, requestsBefore }) => {
        const stages = (document.getElementById('stage-chart') as HTMLElement).dataset;
        const load = (document.getElementById('load-chart') as HTMLElement).dataset;
        const names = (stages.stages ?? '').split(',');
        const shards = [...document.querySelectorAll('[data-testid="shard-row"]')].map((r) => (r as HTMLElement).dataset.shard);
        return (
          ['embed', 'generate', 'generate_ttft', 'shard_search', 'retrieve', 'merge'].every((n) => names.includes(n)) &&
          Number(stages.samples) >= before + 3 + 2 + 2 + 4 &&
          Number(load.requests) >= requestsBefore + 5 &&
          shards.includes('shard-0') &&
          shards.includes('shard-1')
        );
      },
      { before: Number(stagesBefore.samples), requestsBefore: Number(loadBefore.requests) },
      { timeout: UPDATE_WITHIN_MS, polling: 50 },
    );
    expect(Date.now() - sent).toBeLessThanOrEqual(UPDATE_WITHIN_MS);

    const stagesAfter = await chartState('stage-chart');
    const loadAfter = await chartState('load-chart');
    expect(Number(stagesAfter.points)).toBeGreaterThan(Number(stagesBefore.points));
    expect(Number(stagesAfter.lastT)).toBeGreaterThan(Number(stagesBefore.lastT));
    expect(Number(loadAfter.lastT)).toBeGreaterThanOrEqual(Number(loadBefore.lastT));
    // uPlot drew them: a canvas each, and the stage chart's legend names p50 and p99 per stage.
    expect(await page.locator('#stage-chart canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#load-chart canvas').count()).toBeGreaterThan(0);
    const legend = await page.locator('#stage-chart .u-legend').innerText();
    expect(legend).toContain('embed p50');
    expect(legend).toContain('generate_ttft p99');

    const shard0 = page.locator('[data-testid="shard-row"][data-shard="shard-0"]');
    expect(await shard0.getAttribute('data-p50')).toBe('2.5');
    expect(await shard0.locator('td').nth(2).innerText()).toBe('2.50');
    expect(await page.locator('[data-testid="shard-row"][data-shard="shard-1"]').getAttribute('data-p99')).toBe('4.75');
  });

  it('runs A/B from the button and shows both latencies and the speedup', async () => {
    await page.click('[data-testid="ab-run"]');
    await page.waitForSelector('[data-testid="ab-speedup"][data-value]', { timeout: 30_000 });
    const baseline = await valueAt('ab-baseline-ms');
    const ragwire = await valueAt('ab-ragwire-ms');
    const speedup = await valueAt('ab-speedup');
    expect(baseline).toBeGreaterThan(0);
    expect(ragwire).toBeGreaterThan(0);
    expect(speedup).toBeGreaterThan(0);
    expect(speedup).toBeCloseTo(baseline / ragwire, 6);
    expect(await page.locator('[data-testid="ab-speedup"]').innerText()).toBe(`${speedup.toFixed(2)}×`);
    expect(await page.locator('#ab-table tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.stage))).toEqual(['embed', 'generate']);
    expect(await page.locator('[data-testid="ab-status"]').innerText()).toContain('How does ragwire cut retrieval latency');
    // The report the page shows is the one the server keeps.
    const series = await (await fetch(`${proxy.url}/dashboard/api/series`)).json();
    expect(series.ab.baseline.totalMs).toBe(baseline);
    expect(series.ab.ragwire.totalMs).toBe(ragwire);
  });

  it('computes the cost calculator from the A/B latencies and its printed formula', async () => {
    const baseline = await valueAt('ab-baseline-ms');
    const ragwire = await valueAt('ab-ragwire-ms');
    expect(Number(await page.inputValue('[data-testid="cost-baseline-ms"]'))).toBeCloseTo(baseline, 3);
    expect(Number(await page.inputValue('[data-testid="cost-ragwire-ms"]'))).toBeCloseTo(ragwire, 3);
    const prefilled = (100_000 * (Number(await page.inputValue('#cost-baseline-ms')) - Number(await page.inputValue('#cost-ragwire-ms')))) / 3.6e6;
    expect(await valueAt('cost-hours')).toBeCloseTo(prefilled, 9);

    await page.fill('[data-testid="cost-qpd"]', '250000');
    await page.fill('[data-testid="cost-baseline-ms"]', '120');
    await page.fill('[data-testid="cost-ragwire-ms"]', '45');
    await page.fill('[data-testid="cost-gpu-price"]', '3.2');
    const hours = (250_000 * (120 - 45)) / 3.6e6;
    expect(await valueAt('cost-hours')).toBeCloseTo(hours, 9);
    expect(await valueAt('cost-money')).toBeCloseTo(hours * 3.2, 9);
    expect(await valueAt('cost-money-year')).toBeCloseTo(hours * 3.2 * 365, 6);
    expect(await page.locator('[data-testid="cost-hours"]').innerText()).toBe('5.21 h');
    expect(await page.locator('[data-testid="cost-money"]').innerText()).toBe('$16.67');
    const formulas = await page.locator('[data-testid="cost-formulas"]').innerText();
    expect(formulas).toContain('queries per day × (baseline ms − ragwire ms) ÷ 3,600,000');
    expect(formulas).toContain('hours saved per day × GPU $ per hour');
  });

  it('saves a screenshot', async () => {
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });
});
