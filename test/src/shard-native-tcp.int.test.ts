// native+tcp:// end to end: a real ragwire-shard process whose TCP connections live on the native
// data plane's epoll thread (docs/protocol.md §2.3), clients dialling it as tcp://. What only this
// listener has: its loop walks every frame header (counted in /metrics), answers plain queries itself
// once a connection authenticated, and an idle loop blocks in epoll_wait. The suites every TCP listener passes (auth, bad input, deadlines, hostile peers) run
// over it from their own files (TCP_SCHEMES); here, large frames, pipelining, and peers killed
// mid-request on either side.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { FrameDecoder, encodeFrame, type Message, type Request } from '@ragwire/protocol';
import { metricValue, sleep } from './peer-memory';
import { expectKilledMidRequestIsTyped } from './killed-mid-request';
import { killAll, startShardProcess, tempDir, type ShardProcess } from './processes';

const ADMIN = 'admin-token-0001';

describe('ragwire-shard over native+tcp://', () => {
  const dir = tempDir('native-tcp');
  let server: ShardProcess;
  let url: string;
  let client: ShardClient;

  async function metrics(): Promise<string> {
    return (await fetch(`${server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
  }

  const loopStat = async (stat: string) => metricValue(await metrics(), `ragwire_shard_native_plane{transport="tcp",stat="${stat}"}`);

  beforeAll(async () => {
    server = await startShardProcess({ dataDir: dir.path, listen: ['native+tcp://127.0.0.1:0'], admin: true, tokens: [ADMIN] });
    url = server.addresses[0]!;
    client = new ShardClient(url, { token: ADMIN });
    await client.createCollection({ collection: 'docs', dim: 8, metric: 'l2', kind: 'flat', storage: 'f32' });
    const ids = Array.from({ length: 100 }, (_, i) => `d${i}`);
    const vectors = Float32Array.from({ length: 100 * 8 }, (_, i) => Math.sin(i));
    await client.upsert({ collection: 'docs', dim: 8, ids, vectors, payloads: ids.map((id) => ({ text: id })) });
  });

  afterAll(async () => {
    await client?.close();
    // A clean SIGTERM drain with a client still connected: the loop thread stops and the process exits 0.
    if (server) expect(await server.stop()).toBe(0);
    killAll();
    dir.cleanup();
  });

  it('announces a tcp:// address, and its loop walks every frame header', async () => {
    expect(url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const framesBefore = await loopStat('frames');
    const queriesBefore = await loopStat('queries');
    const answeredBefore = await loopStat('answered');
    const q = Float32Array.from({ length: 8 }, (_, i) => Math.sin(8 * 7 + i));
    for (let i = 0; i < 20; i++) expect((await client.query({ collection: 'docs', dim: 8, k: 1, vectors: q })).ids[0]).toBe('d7');
    expect((await loopStat('frames')) - framesBefore).toBe(20);
    expect((await loopStat('queries')) - queriesBefore).toBe(20);
    // Plain dense queries of an authenticated connection: answered on the loop thread.
    expect((await loopStat('answered')) - answeredBefore).toBe(20);
    expect(await loopStat('accepted')).toBeGreaterThanOrEqual(1);
  });

  it('hands every frame to JavaScript until the connection authenticated, then marks it ready', async () => {
    const readyBefore = await loopStat('ready');
    const u = new URL(url);
    const socket: Socket = connect(Number(u.port), u.hostname);
    const decoder = new FrameDecoder();
    const replies: Message[] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const e of decoder.push(chunk)) if (e.ok) replies.push(e.message);
    });
    const reply = async (count: number): Promise<Message> => {
      for (let i = 0; i < 200 && replies.length < count; i++) await sleep(10);
      return replies[count - 1]!;
    };
    const query: Request = { type: 'query', collection: 'docs', dim: 8, k: 1, vectors: new Float32Array(8) };
    // Unauthenticated, then with a refused token: the same typed error as tcp://, and the loop keeps the connection on JavaScript.
    socket.write(encodeFrame(query, 1));
    expect(await reply(1)).toMatchObject({ type: 'error', code: 'RAGWIRE_ERR_UNAUTHORIZED' });
    socket.write(encodeFrame({ type: 'hello', versions: [1], token: 'not-a-token' }, 2));
    expect(await reply(2)).toMatchObject({ type: 'error', code: 'RAGWIRE_ERR_UNAUTHORIZED' });
    socket.write(encodeFrame(query, 3));
    expect(await reply(3)).toMatchObject({ type: 'error', code: 'RAGWIRE_ERR_UNAUTHORIZED' });
    expect(await loopStat('ready')).toBe(readyBefore);
    socket.write(encodeFrame({ type: 'hello', versions: [1], token: ADMIN }, 4));
    expect(await reply(4)).toMatchObject({ type: 'hello_ok' });
    expect(await loopStat('ready')).toBe(readyBefore + 1);
    socket.write(encodeFrame(query, 5));
    expect(await reply(5)).toMatchObject({ type: 'result' });
    socket.destroy();
  });

  it('blocks in epoll_wait while idle (no busy core)', async () => {
    await client.query({ collection: 'docs', dim: 8, k: 1, vectors: new Float32Array(8) });
    const before = await loopStat('waits');
    await sleep(500);
    // The admin port is not the loop's: scraping it wakes nothing there.
    expect(await loopStat('waits')).toBe(before);
  });

  it('carries large frames: 1000 x 1536-d vectors in one upsert and one query batch', async () => {
    await client.createCollection({ collection: 'wide', dim: 1536, metric: 'ip', kind: 'flat', storage: 'f32' });
    const n = 1000;
    const vectors = Float32Array.from({ length: n * 1536 }, (_, i) => Math.cos(i * 0.001));
    const ids = Array.from({ length: n }, (_, i) => `w${i}`);
    await client.upsert({ collection: 'wide', dim: 1536, ids, vectors });
    const r = await client.query({ collection: 'wide', dim: 1536, k: 5, vectors });
    expect(r.counts).toHaveLength(n);
    expect(r.ids).toHaveLength(n * 5);
  });

  it('pipelines hundreds of requests on one connection', async () => {
    const q = Float32Array.from({ length: 8 }, (_, i) => Math.sin(8 * 42 + i));
    const replies = await Promise.all(Array.from({ length: 500 }, () => client.query({ collection: 'docs', dim: 8, k: 1, vectors: q })));
    for (const r of replies) expect(r.ids[0]).toBe('d42');
  });

  it('a client process killed mid-request leaves the server serving, its connection gone', async () => {
    const openBefore = await loopStat('open');
    // A client process that sends heavy exact queries, says so, and is killed with SIGKILL while they run.
    const query: Request = { type: 'query', collection: 'wide', dim: 1536, k: 10, vectors: new Float32Array(200 * 1536).fill(0.5), options: { exact: true } };
    const framesPath = join(dir.path, 'frames.bin');
    writeFileSync(
      framesPath,
      Buffer.concat([encodeFrame({ type: 'hello', versions: [1], token: ADMIN }, 1), ...[2, 3, 4, 5].map((id) => encodeFrame(query, id))]),
    );
    const u = new URL(url);
    const script = `const s = require('node:net').connect(${u.port}, '${u.hostname}', () => s.write(require('node:fs').readFileSync(process.argv[1]), () => console.log('sent')));`;
    const child = spawn(process.execPath, ['-e', script, framesPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(await loopStat('open')).toBe(openBefore + 1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    let open = Infinity;
    for (let i = 0; i < 100 && open > openBefore; i++) {
      await sleep(50);
      open = await loopStat('open');
    }
    expect(open).toBe(openBefore);
    expect((await client.query({ collection: 'docs', dim: 8, k: 1, vectors: new Float32Array(8) })).ids).toHaveLength(1);
    let inFlight = Infinity;
    for (let i = 0; i < 200 && inFlight > 0; i++) {
      inFlight = metricValue(await metrics(), 'ragwire_shard_inflight_requests');
      if (inFlight > 0) await sleep(50);
    }
    expect(inFlight).toBe(0);
  });

  it('a shard killed mid-request is a typed error for its client, not a hang', () =>
    expectKilledMidRequestIsTyped('native+tcp://127.0.0.1:0', 'native-tcp-victim'));
});
