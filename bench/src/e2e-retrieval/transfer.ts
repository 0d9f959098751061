// Seed 000's transfer scenario: one 1536-d query and its 10 hits with payloads, binary frames vs HTTP/JSON.
import { EncodedPayload, FrameDecoder, encodeFrameParts, type Payload, type ResultReply } from '@ragwire/protocol';
import type { ShardClient } from '@ragwire/client';
import type { HttpFanout } from './http-search';
import { measureLatency, type LatencyReport } from './load';
import { processCpuSeconds } from './processes';

export const TRANSFER_DIM = 1536;
export const TRANSFER_DOCS = 1000;

/** A document payload of the size RAG chunks have: ~1 KB of text and a little metadata. */
export function transferPayload(i: number): Payload {
  const words = Array.from({ length: 170 }, (_, j) => `w${(i * 31 + j * 7) % 997}`).join(' ');
  return { text: `chunk ${i}: ${words}`, metadata: { source: `doc-${i % 50}.pdf`, page: i % 300, section: `s${i % 12}`, tags: ['rag', 'bench'] } };
}

export interface CodecCost {
  /** CPU microseconds per query for both sides' encoding and decoding (request and reply). */
  binaryUs: number;
  jsonUs: number;
  requestBytes: { binary: number; json: number };
  replyBytes: { binary: number; json: number };
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * What the wire costs the two processes, without the search: the client encodes the query, the
 * server decodes it, encodes the reply (10 hits with payloads), the client decodes it. Each side is
 * charged what its process does, and the copy between them (the kernel's) is left out for both:
 * - binary: `encodeFrameParts` (the transports write the parts with writev, corked: no concat), and
 *   `FrameDecoder.push` of the bytes as they arrive in one buffer (vectors viewed in place; payloads
 *   as the store keeps them, in their wire form, copied into the frame as the shard server does);
 * - JSON: `JSON.stringify` and its UTF-8 encoding (what the socket writes), and the UTF-8 decoding of
 *   the arriving bytes and `JSON.parse`, payloads from objects as a JSON server holds them.
 */
export function measureCodecCost(query: Float32Array, reply: ResultReply, iterations: number): CodecCost {
  const request = { type: 'query' as const, collection: 'transfer', dim: TRANSFER_DIM, k: 10, vectors: query, options: { withPayload: true } };
  const served: ResultReply = { ...reply, payloads: reply.payloads?.map((p) => (p ? EncodedPayload.encode(p) : null)) };
  const hits = reply.ids.map((id, i) => ({ id, score: reply.scores[i]!, payload: reply.payloads?.[i] ?? null }));
  const jsonRequest = () => JSON.stringify({ vector: Array.from(query), k: 10, withPayload: true });
  const jsonReply = () => JSON.stringify({ hits });
  // The bytes each receiver gets (the same every time: the encodings are deterministic).
  const arrived = {
    binaryRequest: Buffer.concat(encodeFrameParts(request, 1)),
    binaryReply: Buffer.concat(encodeFrameParts(served, 1)),
    jsonRequest: Buffer.from(jsonRequest()),
    jsonReply: Buffer.from(jsonReply()),
  };
  let sink = 0;
  const binaryOnce = () => {
    sink += encodeFrameParts(request, 1).length;
    const got = new FrameDecoder().push(arrived.binaryRequest)[0]!;
    if (!got.ok) throw got.error;
    sink += encodeFrameParts(served, 1).length;
    const back = new FrameDecoder().push(arrived.binaryReply)[0]!;
    if (!back.ok) throw back.error;
    sink += (back.message as ResultReply).ids.length;
  };
  const jsonOnce = () => {
    sink += Buffer.from(jsonRequest()).length;
    const parsed = JSON.parse(arrived.jsonRequest.toString('utf8')) as { vector: number[] };
    sink += Float32Array.from(parsed.vector).length;
    sink += Buffer.from(jsonReply()).length;
    const back = JSON.parse(arrived.jsonReply.toString('utf8')) as { hits: unknown[] };
    sink += back.hits.length;
  };
  const run = (once: () => unknown): number => {
    for (let i = 0; i < 200; i++) once();
    const t0 = cpuUs();
    for (let i = 0; i < iterations; i++) once();
    return (cpuUs() - t0) / iterations;
  };
  const binaryUs = run(binaryOnce);
  const jsonUs = run(jsonOnce);
  if (sink < 0) console.log(sink);
  return {
    binaryUs,
    jsonUs,
    requestBytes: { binary: arrived.binaryRequest.length, json: arrived.jsonRequest.length },
    replyBytes: { binary: arrived.binaryReply.length, json: arrived.jsonReply.length },
  };
}

export interface WireCost extends LatencyReport {
  /** CPU microseconds per query, client process plus shard process, search included. */
  cpuUsPerQuery: number;
}

/** End to end over loopback against one shard, CPU of both processes counted. */
export async function measureWireCost(call: () => Promise<unknown>, shardPid: number, count: number): Promise<WireCost> {
  for (let i = 0; i < 200; i++) await call();
  const c0 = cpuUs();
  const s0 = processCpuSeconds(shardPid);
  const lat = await measureLatency(call, count, 0);
  const cpu = cpuUs() - c0 + (processCpuSeconds(shardPid) - s0) * 1e6;
  return { ...lat, cpuUsPerQuery: cpu / count };
}

export function transferCalls(client: ShardClient, http: HttpFanout, query: Float32Array) {
  return {
    binary: () => client.query({ collection: 'transfer', dim: TRANSFER_DIM, k: 10, vectors: query, options: { withPayload: true, exact: true } }),
    json: () => http.query({ vector: Array.from(query), k: 10, withPayload: true, exact: true }),
  };
}
