// The one request pipeline: every route counted once, errors in OpenAI's shape, HEAD for GET routes,
// and the dashboard as a plug-in the proxy runs without.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index';
import { scrape, startSimProcess, type SimProcess } from './processes';

let sim: SimProcess;
let proxy: RunningProxy;

beforeAll(async () => {
  sim = await startSimProcess();
  proxy = await startProxy({ upstreams: sim.urls, port: 0, logLevel: 'silent' }, undefined, { plugins: [] });
});

afterAll(async () => {
  await proxy?.close();
  await sim?.stop();
});

describe('the request pipeline', () => {
  it('counts every route once, with its status, in ragwire_proxy_requests_total', async () => {
    const series = (route: string, status: number) => `ragwire_proxy_requests_total{model="",route="${route}",status="${status}"}`;
    const before = await (await fetch(`${proxy.url}/metrics`)).text();
    const count = (text: string, s: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(s))
          ?.split(' ')
          .at(-1) ?? 0,
      );
    for (let i = 0; i < 3; i++) expect((await fetch(`${proxy.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${proxy.url}/nope`)).status).toBe(404);
    const after = await (await fetch(`${proxy.url}/metrics`)).text();
    expect(count(after, series('/healthz', 200)) - count(before, series('/healthz', 200))).toBe(3);
    expect(count(after, series('unknown', 404)) - count(before, series('unknown', 404))).toBe(1);
    expect(await scrape(proxy.url, 'ragwire_proxy_upstream_healthy')).toBe(1);
  });

  it("answers unknown routes and wrong methods with a 404 in OpenAI's shape, with a request id", async () => {
    for (const [method, path] of [
      ['GET', '/v1/chat/completions'],
      ['POST', '/v1/unknown'],
      ['DELETE', '/healthz'],
    ]) {
      const res = await fetch(`${proxy.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect((await res.json()).error).toMatchObject({ code: 'not_found', type: 'invalid_request_error' });
    }
  });

  it('answers HEAD on GET routes with headers only', async () => {
    const res = await fetch(`${proxy.url}/healthz`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/json/);
    expect(await res.text()).toBe('');
  });

  it('runs without the dashboard plug-in: no /dashboard routes', async () => {
    for (const path of ['/dashboard', '/dashboard/api/series', '/dashboard/assets/dashboard.js'])
      expect((await fetch(`${proxy.url}${path}`)).status, path).toBe(404);
    expect((await fetch(`${proxy.url}/v1/models`)).status).toBe(200);
  });
});
