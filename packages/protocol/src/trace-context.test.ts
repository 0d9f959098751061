import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from './codec';
import { FrameDecoder } from './decoder';
import type { QueryRequest } from './messages';
import { formatTraceparent, parseTraceparent, TRACEPARENT_BYTES, type Extension } from './trace-context';
import { thrownCode } from './testing/thrown-code';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;
const TRACE_ON: ReadonlySet<Extension> = new Set(['trace']);

function query(trace?: unknown): QueryRequest {
  return { type: 'query', collection: 'docs', dim: 2, k: 3, vectors: new Float32Array([1, 0]), ...(trace !== undefined ? { trace: trace as string } : {}) };
}

const MALFORMED = [
  ['upper-case hex', VALID.toUpperCase()],
  ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
  ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
  ['another version', `01-${TRACE_ID}-${SPAN_ID}-01`],
  ['a field past the flags', `${VALID}-x`],
  ['a short span id', `00-${TRACE_ID}-${SPAN_ID.slice(1)}-01`],
  ['an empty string', ''],
  ['a number', 7],
  ['a long string', 'x'.repeat(4096)],
] as const;

describe('parseTraceparent', () => {
  it('reads a version-00 traceparent and refuses anything else', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 });
    expect(VALID.length).toBe(TRACEPARENT_BYTES);
    expect(formatTraceparent(TRACE_ID, SPAN_ID, false)).toBe(`00-${TRACE_ID}-${SPAN_ID}-00`);
    for (const [, bad] of MALFORMED) expect(parseTraceparent(bad)).toBeUndefined();
  });
});

describe('QUERY trace (docs/protocol.md §5.12)', () => {
  it('round-trips where the trace extension is on', () => {
    const decoded = decodeFrame(encodeFrame(query(VALID), 5), undefined, TRACE_ON).message as QueryRequest;
    expect(decoded.trace).toBe(VALID);
    expect(decodeFrame(encodeFrame(query(), 5), undefined, TRACE_ON).message).not.toHaveProperty('trace');
  });

  it('is an unknown field on a connection without the extension, as it is for a peer older than it', () => {
    const frame = encodeFrame(query(VALID), 5);
    expect(thrownCode(() => decodeFrame(frame))).toBe('RAGWIRE_ERR_BAD_FRAME');
    let message = '';
    try {
      decodeFrame(frame);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('unknown field "trace"');
  });

  it.each(MALFORMED)('refuses %s: INVALID_ARGUMENT when sending, BAD_FRAME when received', (_, bad) => {
    expect(thrownCode(() => encodeFrame(query(bad), 5))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
    // The frame a broken encoder would write: the valid one with the value swapped in meta.
    const frame = encodeFrame(query(VALID), 5);
    const text = Buffer.from(frame).toString('latin1');
    if (typeof bad === 'string' && bad.length === VALID.length) {
      const forged = Buffer.from(text.replace(VALID, bad), 'latin1');
      expect(thrownCode(() => decodeFrame(new Uint8Array(forged), undefined, TRACE_ON))).toBe('RAGWIRE_ERR_BAD_FRAME');
    }
  });

  it('decodes the field from the frame after a decoder turned the extension on', () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(query(VALID), 9);
    const [before] = decoder.push(frame);
    expect(before?.ok).toBe(false);
    decoder.extensions = TRACE_ON;
    const [after] = decoder.push(encodeFrame(query(VALID), 10));
    expect(after?.ok && (after.message as QueryRequest).trace).toBe(VALID);
  });
});

describe('EXTENSIONS (docs/protocol.md §5.12)', () => {
  it('keeps names a server does not know in a request, and refuses them in a reply', () => {
    const asked = decodeFrame(encodeFrame({ type: 'extensions', names: ['trace', 'newer'] }, 3)).message;
    expect(asked).toEqual({ type: 'extensions', names: ['trace', 'newer'] });
    expect(thrownCode(() => encodeFrame({ type: 'extensions_ok', names: ['newer' as Extension] }, 3))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
  });

  it('bounds the names', () => {
    expect(thrownCode(() => encodeFrame({ type: 'extensions', names: Array.from({ length: 17 }, (_, i) => `e${i}`) }, 3))).toBe('RAGWIRE_ERR_LIMIT');
    expect(thrownCode(() => encodeFrame({ type: 'extensions', names: ['x'.repeat(65)] }, 3))).toBe('RAGWIRE_ERR_LIMIT');
    expect(thrownCode(() => encodeFrame({ type: 'extensions', names: [''] }, 3))).toBe('RAGWIRE_ERR_INVALID_ARGUMENT');
  });
});
