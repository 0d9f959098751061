// Helpers for tests that play a hostile peer against a real server process: its resident memory,
// raw sockets that never read, and the server's Prometheus counters.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { connectUcx } from '@ragwire/native';

/** Resident memory of a process in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Samples `pid`'s RSS every `everyMs` until stopped; `peak` is the largest sample. */
export function sampleRss(pid: number, everyMs = 50): { readonly peak: number; stop(): number } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      /* the process is gone */
    }
  }, everyMs);
  return {
    get peak() {
      return peak;
    },
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** A connection (tcp:// or ucx://) whose owner never reads what the server sends (paused from the start). */
export async function connectNeverReading(url: string): Promise<Duplex & { closedAt?: number }> {
  const u = new URL(url);
  const socket = (u.protocol === 'ucx:' ? connectUcx(u.hostname, Number(u.port)) : net.connect({ port: Number(u.port), host: u.hostname })) as Duplex & {
    closedAt?: number;
  };
  socket.pause();
  socket.on('error', () => undefined);
  socket.on('close', () => (socket.closedAt = Date.now()));
  await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('error', reject));
  return socket;
}

/** The value of one Prometheus sample (`name{labels}`) in a /metrics text, 0 when absent. */
export function metricValue(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
