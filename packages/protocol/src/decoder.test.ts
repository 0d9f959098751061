import { describe, expect, it } from 'vitest';
import { encodeFrame } from './codec';
import { FrameDecoder, type DecodeEvent, type FrameErrorEvent } from './decoder';
import type { Message, QueryRequest, ResultReply } from './messages';
import { sampleMessages } from './testing/sample-messages';

function frames(messages: Message[], firstId = 1): Uint8Array[] {
  return messages.map((m, i) => encodeFrame(m, m.type === 'error' ? 0 : firstId + i));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function ok(events: DecodeEvent[]): Message[] {
  return events.map((e) => {
    if (!e.ok) throw e.error;
    return e.message;
  });
}

function errors(events: DecodeEvent[]): FrameErrorEvent[] {
  return events.filter((e): e is FrameErrorEvent => !e.ok);
}

/** A frame with a hand-made header, for what the encoder refuses to write. */
function rawFrame(fields: { length?: number; version?: number; type?: number; flags?: number; requestId?: number }, body = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, fields.length ?? 8 + body.length, true);
  v.setUint8(4, fields.version ?? 1);
  v.setUint8(5, fields.type ?? 0x30);
  v.setUint16(6, fields.flags ?? 0, true);
  v.setUint32(8, fields.requestId ?? 1, true);
  out.set(body, 12);
  return out;
}

describe('FrameDecoder', () => {
  const samples = sampleMessages();
  const frameList = frames(samples);
  const stream = concat(frameList);

  it('decodes frames delivered one byte at a time', () => {
    const d = new FrameDecoder();
    const events: DecodeEvent[] = [];
    for (let i = 0; i < stream.length; i++) events.push(...d.push(stream.subarray(i, i + 1)));
    expect(ok(events)).toEqual(samples);
    expect(d.bufferedBytes).toBe(0);
    expect(d.finish()).toEqual([]);
  });

  it('decodes coalesced frames in one chunk in place, without a copy', () => {
    const d = new FrameDecoder();
    const chunk = stream.slice();
    const events = d.push(chunk);
    expect(ok(events)).toEqual(samples);
    expect(d.stats.copiedFrames).toBe(0);
    const query = events.map((e) => (e.ok ? e.message : undefined)).find((m) => m?.type === 'query') as QueryRequest;
    expect(query.vectors.buffer).toBe(chunk.buffer);
    expect(query.vectors.byteOffset % 4).toBe(0);
  });

  it('decodes any split of the stream, and copies only frames that straddle chunks', () => {
    let seed = 12345;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    for (let round = 0; round < 200; round++) {
      const d = new FrameDecoder();
      const events: DecodeEvent[] = [];
      const cuts = new Set<number>();
      for (let pos = 0; pos < stream.length; ) {
        const n = 1 + rand(round % 2 ? 7 : 300);
        events.push(...d.push(stream.subarray(pos, pos + n)));
        pos += n;
        cuts.add(pos);
      }
      expect(ok(events)).toEqual(samples);
      // Views on `stream` keep its alignment, so exactly the frames a cut falls inside are copied.
      let start = 0;
      let straddling = 0;
      for (const f of frameList) {
        for (let c = start + 1; c < start + f.length; c++) {
          if (cuts.has(c)) {
            straddling++;
            break;
          }
        }
        start += f.length;
      }
      expect(d.stats.copiedFrames).toBe(straddling);
      for (const e of events) {
        if (e.ok && e.message.type === 'query') expect(e.message.vectors.byteOffset % 4).toBe(0);
      }
    }
  });

  it('matches pipelined replies that arrive out of order by request id', () => {
    const requests = [11, 12, 13].map((id) => ({ id, vector: new Float32Array([id, id + 0.5]) }));
    const replies = [...requests]
      .reverse()
      .map(({ id }) =>
        encodeFrame({ type: 'result', k: 1, counts: new Uint32Array([1]), ids: [`doc-${id}`], scores: new Float32Array([id / 100]) } satisfies ResultReply, id),
      );
    const pending = new Map(requests.map((r) => [r.id, r]));
    const d = new FrameDecoder();
    for (const e of d.push(concat(replies))) {
      if (!e.ok) throw e.error;
      expect(pending.has(e.requestId)).toBe(true);
      expect((e.message as ResultReply).ids).toEqual([`doc-${e.requestId}`]);
      pending.delete(e.requestId);
    }
    expect(pending.size).toBe(0);
  });

  it('refuses an oversize length prefix before buffering any of the body, and stops', () => {
    const d = new FrameDecoder({ maxFrameBytes: 4096 });
    const header = rawFrame({ length: 1 << 30, requestId: 77 });
    const events = d.push(header);
    expect(events).toHaveLength(1);
    const e = events[0] as FrameErrorEvent;
    expect(e.error.code).toBe('RAGWIRE_ERR_FRAME_TOO_LARGE');
    expect(e.fatal).toBe(true);
    expect(e.requestId).toBe(77);
    expect(d.failed).toBe(true);
    expect(d.bufferedBytes).toBe(0);
    expect(d.push(new Uint8Array(1 << 16))).toEqual([]);
    expect(d.bufferedBytes).toBe(0);
  });

  it('stops on a length prefix shorter than the header', () => {
    const e = errors(new FrameDecoder().push(rawFrame({ length: 4 })))[0]!;
    expect(e.error.code).toBe('RAGWIRE_ERR_BAD_FRAME');
    expect(e.fatal).toBe(true);
  });

  it('skips frames of an unknown version, type or flag without buffering them, then goes on', () => {
    const good = encodeFrame({ type: 'stats' }, 5);
    const body = new Uint8Array(1000).fill(0xab);
    const bad = [
      rawFrame({ version: 9, requestId: 1 }, body),
      rawFrame({ type: 0x55, requestId: 2 }, body),
      rawFrame({ flags: 0x8000, requestId: 3 }, body),
      rawFrame({ type: 0x21, flags: 0, requestId: 4 }, body), // RESULT without RESPONSE
      rawFrame({ requestId: 0 }, body),
      rawFrame({ length: 8 + body.length - 2, requestId: 6 }, body.subarray(0, body.length - 2)), // not a multiple of 4
    ];
    const d = new FrameDecoder();
    const events: DecodeEvent[] = [];
    for (const f of [...bad, good]) {
      for (let i = 0; i < f.length; i += 100) {
        events.push(...d.push(f.subarray(i, i + 100)));
        expect(d.bufferedBytes).toBeLessThan(12);
      }
    }
    const errs = errors(events);
    expect(errs.map((e) => e.error.code)).toEqual([
      'RAGWIRE_ERR_UNSUPPORTED_VERSION',
      'RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE',
      'RAGWIRE_ERR_BAD_FRAME',
      'RAGWIRE_ERR_BAD_FRAME',
      'RAGWIRE_ERR_BAD_FRAME',
      'RAGWIRE_ERR_BAD_FRAME',
    ]);
    expect(errs.map((e) => e.requestId)).toEqual([1, 2, 3, 4, 0, 6]);
    expect(errs.every((e) => !e.fatal)).toBe(true);
    expect(events.at(-1)).toMatchObject({ ok: true, requestId: 5, message: { type: 'stats' } });
  });

  it('reports a bad body with its request id and keeps decoding the stream', () => {
    const q = encodeFrame({ type: 'query', collection: 'c', dim: 2, k: 1, vectors: new Float32Array(2) }, 8);
    const broken = q.slice();
    broken[16] = 0xc1; // reserved msgpack byte where meta starts
    const d = new FrameDecoder();
    const events = d.push(concat([broken, q]));
    expect(events[0]).toMatchObject({ ok: false, fatal: false, requestId: 8, type: 0x20 });
    expect((events[0] as FrameErrorEvent).error.code).toBe('RAGWIRE_ERR_BAD_FRAME');
    expect(events[1]).toMatchObject({ ok: true, requestId: 8 });
  });

  it('applies per-decoder limits', () => {
    const q = encodeFrame({ type: 'query', collection: 'c', dim: 2, k: 50, vectors: new Float32Array(2) }, 3);
    const e = errors(new FrameDecoder({ maxK: 10 }).push(q))[0]!;
    expect(e.error.code).toBe('RAGWIRE_ERR_LIMIT');
    expect(e.fatal).toBe(false);
    expect(() => new FrameDecoder({ maxK: 0 })).toThrow(/maxK/);
    expect(() => new FrameDecoder({ maxk: 5 } as never)).toThrow(/unknown protocol limit/);
  });

  it('reports a stream that ends inside a frame as fatal', () => {
    const f = encodeFrame({ type: 'describe' }, 21);
    const d = new FrameDecoder();
    expect(d.push(f.subarray(0, f.length - 3))).toEqual([]);
    const [e] = d.finish() as FrameErrorEvent[];
    expect(e).toMatchObject({ ok: false, fatal: true, requestId: 21 });
    expect(e!.error.code).toBe('RAGWIRE_ERR_BAD_FRAME');
    const partialHeader = new FrameDecoder();
    partialHeader.push(f.subarray(0, 5));
    expect((partialHeader.finish()[0] as FrameErrorEvent).requestId).toBeUndefined();
  });
});
