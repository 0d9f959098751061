// docs/protocol.md §9.1: what a partial frame may cost a receiver, whatever a peer sends.
import { describe, expect, it } from 'vitest';
import { encodeFrame } from './codec';
import { FrameDecoder, type DecodeEvent, type FrameBudget, type FrameErrorEvent } from './decoder';
import type { UpsertRequest } from './messages';

function upsert(rows: number, dim: number): Uint8Array {
  const request: UpsertRequest = {
    type: 'upsert',
    collection: 'docs',
    dim,
    ids: Array.from({ length: rows }, (_, i) => `doc-${i}`),
    vectors: Float32Array.from({ length: rows * dim }, (_, i) => (i % 97) / 97),
  };
  return encodeFrame(request, 7);
}

class CountingBudget implements FrameBudget {
  held = 0;
  peak = 0;
  constructor(private readonly limit: number) {}
  reserve(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    this.peak = Math.max(this.peak, this.held);
    return true;
  }
  release(bytes: number): void {
    this.held -= bytes;
  }
}

describe('FrameDecoder memory', () => {
  it('holds one buffer of the declared size for a frame sent one byte at a time', () => {
    const frame = upsert(64, 64); // ~17 KiB
    const d = new FrameDecoder();
    const events: DecodeEvent[] = [];
    for (let i = 0; i < frame.length; i++) {
      events.push(...d.push(frame.subarray(i, i + 1)));
      if (i >= 12 && i < frame.length - 1) {
        // From the header on, the memory held is the frame's declared size: no list of chunks.
        expect(d.heldBytes).toBe(frame.length);
        expect(d.bufferedBytes).toBe(i + 1);
      }
      if (i < 11) expect(d.heldBytes).toBe(i + 1);
    }
    expect(events).toHaveLength(1);
    expect(events[0]!.ok).toBe(true);
    expect(d.heldBytes).toBe(0);
    expect(d.stats.copiedFrames).toBe(1);
    expect(d.stats.largestCopyBytes).toBe(frame.length);
  });

  it('refuses a frame over the connection limit at its header, before buffering, and stops', () => {
    const d = new FrameDecoder(undefined, { frameLimit: 4096 });
    const frame = upsert(64, 64);
    const [e] = d.push(frame.subarray(0, 100)) as FrameErrorEvent[];
    expect(e).toMatchObject({ ok: false, fatal: true, requestId: 7 });
    expect(e!.error.code).toBe('RAGWIRE_ERR_FRAME_TOO_LARGE');
    expect(e!.error.message).toMatch(/limit of 4096 bytes/);
    expect(d.heldBytes).toBe(0);
    expect(d.failed).toBe(true);
    expect(d.push(frame.subarray(100))).toEqual([]);
  });

  it('applies a raised limit from the next header, even inside the same chunk', () => {
    const small = encodeFrame({ type: 'stats', collection: 'docs' }, 1);
    const big = upsert(64, 64);
    const both = new Uint8Array(small.length + big.length);
    both.set(small, 0);
    both.set(big, small.length);
    const d = new FrameDecoder(undefined, { frameLimit: 1024 });
    const seen: DecodeEvent[] = [];
    d.feed(both, (e) => {
      seen.push(e);
      d.frameLimit = Number.MAX_SAFE_INTEGER; // clamped to maxFrameBytes
    });
    expect(seen.map((e) => e.ok)).toEqual([true, true]);
    expect(d.frameLimit).toBe(d.limits.maxFrameBytes);
  });

  it('reserves partial frames from a shared budget and refuses past it with RAGWIRE_ERR_OVERLOADED', () => {
    const frame = upsert(64, 64);
    const budget = new CountingBudget(frame.length * 2);
    const decoders = [0, 1, 2].map(() => new FrameDecoder(undefined, { budget }));
    expect(decoders[0]!.push(frame.subarray(0, 20))).toEqual([]);
    expect(decoders[1]!.push(frame.subarray(0, 20))).toEqual([]);
    expect(budget.held).toBe(frame.length * 2);
    const [refused] = decoders[2]!.push(frame.subarray(0, 20)) as FrameErrorEvent[];
    expect(refused!.error.code).toBe('RAGWIRE_ERR_OVERLOADED');
    expect(refused!.fatal).toBe(true);
    // Completing one frame and disposing the other give their reservations back.
    expect(decoders[0]!.push(frame.subarray(20)).map((e) => e.ok)).toEqual([true]);
    decoders[1]!.dispose();
    expect(budget.held).toBe(0);
    // A frame that arrives whole in one chunk is decoded in place and reserves nothing.
    expect(new FrameDecoder(undefined, { budget }).push(frame).map((e) => e.ok)).toEqual([true]);
    expect(budget.peak).toBe(frame.length * 2);
  });

  it('gives a finished stream its reservation back', () => {
    const frame = upsert(8, 8);
    const budget = new CountingBudget(1 << 20);
    const d = new FrameDecoder(undefined, { budget });
    d.push(frame.subarray(0, 30));
    expect(budget.held).toBe(frame.length);
    expect(d.finish()[0]).toMatchObject({ ok: false, fatal: true });
    expect(budget.held).toBe(0);
  });
});
