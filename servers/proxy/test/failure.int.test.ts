import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { scrape, startProxyProcess, startSimProcess, type ProxyProcess, type SimProcess } from './processes';

const MODEL = 'ragwire/sim-8b';
let simA: SimProcess;
let simB: SimProcess;
let proxy: ProxyProcess;
let client: OpenAI;

beforeAll(async () => {
  // 8 ms per token: a 200-token stream lasts about 1.6 s, time enough to act mid-stream.
  [simA, simB] = await Promise.all([startSimProcess(['--step-base-ms', '8']), startSimProcess(['--step-base-ms', '8'])]);
  const file = join(mkdtempSync(join(tmpdir(), 'ragwire-proxy-')), 'proxy.yaml');
  writeFileSync(file, 'routing:\n  strategy: least-outstanding\nhealth:\n  intervalMs: 200\nretries:\n  maxAttempts: 3\n  baseDelayMs: 5\n');
  proxy = await startProxyProcess(['--config', file, '--upstream', simA.urls[0]!, '--upstream', simB.urls[0]!]);
  client = new OpenAI({ apiKey: 'unused', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([simA?.stop(), simB?.stop()]);
});

const longStream = (signal?: AbortSignal) =>
  client.chat.completions
    .create({ model: MODEL, messages: [{ role: 'user', content: 'tell me a long story' }], max_tokens: 200, stream: true }, { signal })
    .withResponse();

describe('failures between proxy and upstreams', () => {
  it('cancels the upstream request when the client aborts', async () => {
    const before =
      (await scrape(simA.urls[0]!, 'ragwire_sim_requests_cancelled_total')) + (await scrape(simB.urls[0]!, 'ragwire_sim_requests_cancelled_total'));
    const controller = new AbortController();
    const { data: stream } = await longStream(controller.signal);
    let chunks = 0;
    // The SDK ends an aborted stream quietly (or throws an abort error): either way it stops early.
    await (async () => {
      for await (const _ of stream) if (++chunks === 5) controller.abort();
    })().catch((e: unknown) => expect(e).toBeInstanceOf(OpenAI.APIUserAbortError));
    expect(chunks).toBeLessThan(20);
    let after = before;
    for (let i = 0; i < 40 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = (await scrape(simA.urls[0]!, 'ragwire_sim_requests_cancelled_total')) + (await scrape(simB.urls[0]!, 'ragwire_sim_requests_cancelled_total'));
    }
    expect(after).toBe(before + 1);
    const aborted =
      (await scrape(simA.urls[0]!, 'vllm:request_success_total{model_name="ragwire/sim-8b",finished_reason="abort"}')) +
      (await scrape(simB.urls[0]!, 'vllm:request_success_total{model_name="ragwire/sim-8b",finished_reason="abort"}'));
    expect(aborted).toBeGreaterThanOrEqual(1);
  });

  it('counts a client that leaves halfway through its request body as 499 and keeps serving', async () => {
    const series = 'ragwire_proxy_requests_total{model="",route="/v1/chat/completions",status="499"}';
    const before = await scrape(proxy.url, series);
    const { port } = new URL(proxy.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":');
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    let after = before;
    for (let i = 0; i < 40 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await scrape(proxy.url, series);
    }
    expect(after).toBe(before + 1);
    const answer = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'still there?' }], max_tokens: 2 });
    expect(answer.choices).toHaveLength(1);
  });

  it('ends a stream with an error, not a clean end, when its upstream dies mid-stream', async () => {
    const { data: stream, response } = await longStream();
    const upstream = response.headers.get('x-ragwire-upstream');
    const victim = upstream === simA.urls[0] ? simA : simB;
    expect([simA.urls[0], simB.urls[0]]).toContain(upstream);
    let text = '';
    let chunks = 0;
    const consumed = (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (++chunks === 10) victim.child.kill('SIGKILL');
      }
    })();
    await expect(consumed).rejects.toBeInstanceOf(OpenAI.APIError);
    await expect(consumed).rejects.toThrow(/upstream stream failed/);
    expect(text.length).toBeGreaterThan(0);
  });

  it('fails over when one of two upstreams is down: no request lost that had not started streaming', async () => {
    // One sim was killed by the previous test; the proxy may not know yet.
    const results = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) =>
        i % 2 === 0
          ? client.chat.completions
              .create({ model: MODEL, messages: [{ role: 'user', content: `question ${i}` }], max_tokens: 3 })
              .then((r) => r.choices[0]!.message.content)
          : client.chat.completions
              .create({ model: MODEL, messages: [{ role: 'user', content: `question ${i}` }], max_tokens: 3, stream: true })
              .then(async (s) => {
                let t = '';
                for await (const c of s) t += c.choices[0]?.delta?.content ?? '';
                return t;
              }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const ready = (await (await fetch(`${proxy.url}/readyz`)).json()) as { healthyUpstreams: string[] };
    expect(ready.healthyUpstreams).toHaveLength(1);
  });
});
