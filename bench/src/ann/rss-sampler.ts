/**
 * Samples this process's resident memory from /proc/self/status on a worker thread (every 50 ms),
 * so the peak during a build is seen even while the main thread is busy in a synchronous add
 * (hnswlib-node). Anonymous and file-backed resident pages are kept apart: a disk-resident index's
 * mapped vector file shows up as file pages, which the kernel may drop under memory pressure.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

export interface Rss {
  /** RssAnon: private memory (heap, engine allocations). */
  anonBytes: number;
  /** RssFile + RssShmem: pages of mapped files (the vector file, the addon's code). */
  fileBytes: number;
}

export function rssNow(): Rss {
  const text = readFileSync('/proc/self/status', 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { anonBytes: kib('RssAnon'), fileBytes: kib('RssFile') + kib('RssShmem') };
}

const WORKER = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const peak = new Float64Array(workerData.buffer);
const kib = (text, key) => Number(new RegExp('^' + key + ':\\\\s+(\\\\d+) kB', 'm').exec(text)?.[1] ?? 0) * 1024;
setInterval(() => {
  const text = readFileSync('/proc/' + workerData.pid + '/status', 'utf8');
  const anon = kib(text, 'RssAnon'), file = kib(text, 'RssFile') + kib(text, 'RssShmem');
  if (anon > peak[0]) peak[0] = anon;
  if (file > peak[1]) peak[1] = file;
  if (anon + file > peak[2]) peak[2] = anon + file;
}, 50);
`;

/** Peaks since start(): anon, file, and their sum at one instant. */
export class RssSampler {
  #buffer = new SharedArrayBuffer(24);
  #peak = new Float64Array(this.#buffer);
  #worker: Worker;

  constructor() {
    this.#worker = new Worker(WORKER, { eval: true, workerData: { buffer: this.#buffer, pid: process.pid } });
    this.#worker.unref();
  }

  reset(): void {
    const now = rssNow();
    this.#peak[0] = now.anonBytes;
    this.#peak[1] = now.fileBytes;
    this.#peak[2] = now.anonBytes + now.fileBytes;
  }

  peak(): { anonBytes: number; fileBytes: number; totalBytes: number } {
    return { anonBytes: this.#peak[0]!, fileBytes: this.#peak[1]!, totalBytes: this.#peak[2]! };
  }

  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}
