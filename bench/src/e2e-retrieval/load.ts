// Latency and throughput loops shared by every path of the benchmark.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { connectUcx } from '@ragwire/native';
import { quantile } from '../stats';

export interface LatencyReport {
  p50Us: number;
  p99Us: number;
  meanUs: number;
  count: number;
}

export interface ThroughputReport extends LatencyReport {
  concurrency: number;
  qps: number;
  errors: number;
}

function summarize(latencies: number[]): LatencyReport {
  const sum = latencies.reduce((a, b) => a + b, 0);
  return { p50Us: quantile(latencies, 0.5) * 1000, p99Us: quantile(latencies, 0.99) * 1000, meanUs: (sum / latencies.length) * 1000, count: latencies.length };
}

/** One caller, one request at a time: `count` timed calls after `warmup` untimed ones. */
export async function measureLatency(call: (i: number) => Promise<unknown>, count: number, warmup = Math.min(500, count)): Promise<LatencyReport> {
  for (let i = 0; i < warmup; i++) await call(i);
  const latencies: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await call(i);
    latencies[i] = performance.now() - t0;
  }
  return summarize(latencies);
}

/** `concurrency` callers in closed loops for `seconds`; each starts its next call when the last one answered. */
export async function measureThroughput(call: (i: number) => Promise<unknown>, concurrency: number, seconds: number): Promise<ThroughputReport> {
  let i = 0;
  // Warm up briefly at the same concurrency (connection pools fill, JIT settles).
  const warmEnd = performance.now() + 500;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < warmEnd) await call(i++).catch(() => undefined);
    }),
  );
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await call(i++);
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { ...summarize(latencies), concurrency, qps: latencies.length / elapsed, errors };
}

/** Round trips of `bytes` bytes to a bare TCP echo server: the floor for any request over loopback. */
export async function echoLatency(port: number, count: number, bytes = 64): Promise<LatencyReport> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('connect', r));
  return streamEchoLatency(socket, count, bytes);
}

/** The same over ucx:// (UCX picks shared memory between processes of one host unless UCX_TLS says otherwise). */
export async function ucxEchoLatency(port: number, count: number, bytes = 64): Promise<LatencyReport> {
  const socket = connectUcx('127.0.0.1', port);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return streamEchoLatency(socket, count, bytes);
}

async function streamEchoLatency(socket: Duplex, count: number, bytes: number): Promise<LatencyReport> {
  const payload = Buffer.alloc(bytes, 7);
  let pending: (() => void) | undefined;
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received >= bytes) {
      received -= bytes;
      pending?.();
    }
  });
  const once = () =>
    new Promise<void>((resolve) => {
      pending = resolve;
      socket.write(payload);
    });
  const report = await measureLatency(once, count);
  socket.destroy();
  return report;
}
