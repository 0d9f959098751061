// docs/protocol.md §5.12: connection extensions, and the W3C trace context the `trace` extension carries.

/** Extensions a connection may turn on with EXTENSIONS (§5.12). */
export const EXTENSIONS = ['trace'] as const;
export type Extension = (typeof EXTENSIONS)[number];

/** Longest extension name a request may list, and how many names it may list. */
export const MAX_EXTENSION_NAME_BYTES = 64;
export const MAX_EXTENSION_NAMES = 16;

/** A W3C `traceparent` of version 00 is exactly this long: `00-` 32 hex `-` 16 hex `-` 2 hex. */
export const TRACEPARENT_BYTES = 55;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** The parts of a valid `traceparent`. */
export interface TraceContext {
  traceId: string;
  /** The caller's span: the parent of the receiver's span. */
  spanId: string;
  /** The trace-flags byte (bit 0: sampled). */
  flags: number;
}

/**
 * Parses a W3C `traceparent` (https://www.w3.org/TR/trace-context/ §3.2), version 00 only:
 * lowercase hex, neither id all zeros. Undefined for anything else.
 */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length !== TRACEPARENT_BYTES) return undefined;
  const m = TRACEPARENT.exec(value);
  if (m === null || m[1] === ZERO_TRACE_ID || m[2] === ZERO_SPAN_ID) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, flags: parseInt(m[3]!, 16) };
}

/** The `traceparent` of a span: version 00, the sampled bit as given. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}
