// Issue 11's small holes in auth: a refused token stays refused (no reconnect loop), and /metrics,
// which names collections, needs a token when tokens are configured unless opened to loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { isRagwireError } from '@ragwire/protocol';
import { metricValue, sleep } from './peer-memory';
import { TCP_SCHEMES, killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const ADMIN = 'admin-token-0001';

describe.each(TCP_SCHEMES)('shard server auth over %s://', (scheme) => {
  const dir = tempDir('auth');
  let server: ShardProcess;

  beforeAll(async () => {
    server = await startShardProcess({
      dataDir: dir.path,
      listen: [`${scheme}://127.0.0.1:0`],
      admin: true,
      tokens: [ADMIN],
      extra: ['--metrics-open-on-loopback'],
    });
  });

  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
    killAll();
    dir.cleanup();
  });

  it('keeps answering RAGWIRE_ERR_UNAUTHORIZED for a refused token, without reconnecting', async () => {
    const client = new ShardClient(server.addresses[0]!, { token: 'not-the-token', backoff: { initialMs: 1, maxMs: 5 } });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      try {
        await client.request({ type: 'describe' });
        codes.push('ok');
      } catch (error) {
        codes.push(isRagwireError(error) ? error.code : String(error));
      }
      await sleep(20); // past any backoff
    }
    expect(codes).toEqual(Array(5).fill('RAGWIRE_ERR_UNAUTHORIZED'));
    expect(client.available).toBe(false);
    await client.close();
    const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
    expect(metricValue(text, 'ragwire_shard_requests_total{type="hello",code="RAGWIRE_ERR_UNAUTHORIZED"}')).toBe(1);
  });

  it('opens /metrics to a scraper on loopback when asked, and /stats still needs the token', async () => {
    const metrics = await fetch(`${server.adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('ragwire_shard_connection_limit{name="maxConnections"} 1024');
    expect((await fetch(`${server.adminUrl}/stats`)).status).toBe(401);
    expect((await fetch(`${server.adminUrl}/stats`, { headers: { authorization: `BEARER ${ADMIN}` } })).status).toBe(200);
  });
});
