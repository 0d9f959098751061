// docs/protocol.md §5.12: the `trace` extension is negotiated per connection. A server older than
// EXTENSIONS never receives the QUERY `trace` field; a shard server gives the extension only with
// tracing on, and until a connection turns it on the field is refused like any unknown field.
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { FrameDecoder, UnknownMessageTypeError, encodeFrame, toErrorReply, type ErrorReply, type QueryRequest } from '@ragwire/protocol';
import { startShardServer, type ShardServer } from '@ragwire/shard-server';
import { OtlpReceiver } from '@ragwire/tracing/receiver';
import { RawConnection } from './raw-connection';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const query = { collection: 'docs', dim: 2, k: 1, vectors: new Float32Array([1, 0]), trace: TRACEPARENT };

describe('a client asking for the trace extension from a server older than EXTENSIONS', () => {
  let server: net.Server;
  let url: string;
  const received: Buffer[] = [];
  const decoded: QueryRequest[] = [];

  beforeAll(async () => {
    // Answers as a version-1 server without §5.12 does: EXTENSIONS is an unknown type, and its decoder knows no `trace`.
    server = net.createServer((socket) => {
      const decoder = new FrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        received.push(Buffer.from(chunk));
        for (const e of decoder.push(chunk)) {
          if (!e.ok) socket.write(encodeFrame(toErrorReply(e.error), e.requestId ?? 0));
          else if (e.message.type === 'hello') socket.write(encodeFrame({ type: 'hello_ok', version: 1, server: 'old-shard/0.0.1' }, e.requestId));
          else if (e.message.type === 'extensions')
            socket.write(encodeFrame(toErrorReply(new UnknownMessageTypeError('unknown message type 0x05')), e.requestId));
          else if (e.message.type === 'query') {
            decoded.push(e.message);
            socket.write(encodeFrame({ type: 'result', k: 1, counts: new Uint32Array([1]), ids: ['a'], scores: new Float32Array([1]) }, e.requestId));
          }
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  afterAll(() => new Promise((r) => server.close(r)));

  it('gets its answer, and the server never sees the field', async () => {
    const client = new ShardClient(url, { extensions: ['trace'] });
    const reply = await client.query(query);
    expect(reply.ids).toEqual(['a']);
    await client.close();
    expect(decoded).toHaveLength(1);
    expect(decoded[0]).not.toHaveProperty('trace');
    expect(Buffer.concat(received).includes(Buffer.from('trace', 'utf8'))).toBe(true); // in the EXTENSIONS request only
    expect(Buffer.concat(received).includes(Buffer.from(TRACEPARENT, 'utf8'))).toBe(false);
  });

  it('sends neither EXTENSIONS nor the field when no extension is asked for', async () => {
    received.length = 0;
    const client = new ShardClient(url);
    await client.query(query);
    await client.close();
    expect(Buffer.concat(received).includes(Buffer.from('trace', 'utf8'))).toBe(false);
  });
});

describe('a shard server and the trace extension', () => {
  let dir: string;
  let receiver: OtlpReceiver;
  const servers: ShardServer[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ragwire-trace-ext-'));
    receiver = await OtlpReceiver.start();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(name: string, tracing: boolean): Promise<ShardServer> {
    const server = await startShardServer({
      listen: ['tcp://127.0.0.1:0'],
      dataDir: join(dir, name),
      logLevel: 'silent',
      ...(tracing ? { tracing: { enabled: true, otlpEndpoint: receiver.endpoint, exportDelayMs: 20 } } : {}),
    });
    servers.push(server);
    const client = new ShardClient(server.addresses[0]!);
    await client.createCollection({ collection: 'docs', dim: 2, metric: 'cosine', kind: 'flat', storage: 'f32' });
    await client.upsert({ collection: 'docs', dim: 2, ids: ['a'], vectors: new Float32Array([1, 0]) });
    await client.close();
    return server;
  }

  it('with tracing off turns nothing on, and a client drops the field', async () => {
    const server = await start('off', false);
    const raw = await RawConnection.open(server.addresses[0]!);
    raw.send({ type: 'hello', versions: [1] }, 1);
    await raw.reply(1);
    raw.send({ type: 'extensions', names: ['trace'] }, 2);
    expect(await raw.reply(2)).toEqual({ type: 'extensions_ok', names: [] });
    raw.send({ type: 'query', ...query }, 3);
    expect(((await raw.reply(3)) as ErrorReply).code).toBe('RAGWIRE_ERR_BAD_FRAME');
    raw.close();
    const client = new ShardClient(server.addresses[0]!, { extensions: ['trace'] });
    expect((await client.query(query)).ids).toEqual(['a']);
    await client.close();
  });

  it('with tracing on takes the field once the connection turned it on, and exports the query span', async () => {
    const server = await start('on', true);
    const raw = await RawConnection.open(server.addresses[0]!);
    raw.send({ type: 'hello', versions: [1] }, 1);
    await raw.reply(1);
    raw.send({ type: 'query', ...query }, 2);
    expect(((await raw.reply(2)) as ErrorReply).code).toBe('RAGWIRE_ERR_BAD_FRAME');
    raw.send({ type: 'extensions', names: ['trace', 'from-a-newer-client'] }, 3);
    expect(await raw.reply(3)).toEqual({ type: 'extensions_ok', names: ['trace'] });
    raw.send({ type: 'query', ...query }, 4);
    expect((await raw.reply(4)).type).toBe('result');
    // A malformed traceparent (what a broken encoder would write) is refused; the connection goes on.
    const forged = Buffer.from(encodeFrame({ type: 'query', ...query }, 5));
    forged.write(TRACEPARENT.toUpperCase(), forged.indexOf(TRACEPARENT), 'latin1');
    raw.sendBytes(forged);
    expect(((await raw.reply(5)) as ErrorReply).code).toBe('RAGWIRE_ERR_BAD_FRAME');
    raw.send({ type: 'query', ...query }, 6);
    expect((await raw.reply(6)).type).toBe('result');
    raw.close();
    // The two answered queries were exported, each a shard span of the query's own trace.
    expect(await receiver.waitFor((spans) => spans.filter((s) => s.name === 'ragwire.shard.query').length >= 2)).toBe(true);
  });

  it('with tracing on answers a query whose trace is not sampled and exports nothing of it', async () => {
    const server = await start('unsampled', true);
    const traceId = '7bf92f3577b34da6a3ce929d0e0e4736';
    const client = new ShardClient(server.addresses[0]!, { extensions: ['trace'] });
    const sampled = { ...query, trace: `00-${traceId.replace('7b', '8b')}-00f067aa0ba902b7-01` };
    expect((await client.query({ ...query, trace: `00-${traceId}-00f067aa0ba902b7-00` })).ids).toEqual(['a']);
    // A sampled query after it: once its span is exported, the unsampled one's would have been too.
    expect((await client.query(sampled)).ids).toEqual(['a']);
    await client.close();
    expect(await receiver.waitFor((spans) => spans.some((s) => s.traceId === traceId.replace('7b', '8b')))).toBe(true);
    expect(receiver.spans.filter((s) => s.traceId === traceId)).toEqual([]);
  });
});
