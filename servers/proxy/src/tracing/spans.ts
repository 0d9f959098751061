import type { TraceSpan } from '@ragwire/tracing';

/**
 * `work`'s result, ending `span` when it settles (on failure always; on
 * success unless `open`, when the caller ends it later: a stream's span ends
 * with its last byte).
 */
export async function traced<T>(span: TraceSpan | undefined, work: Promise<T>, open = false): Promise<T> {
  if (!span) return work;
  try {
    const result = await work;
    if (!open) span.end();
    return result;
  } catch (error) {
    span.end((error as Error).message);
    throw error;
  }
}

/** Marks the first streamed byte on a generate span: an event, and TTFT in ms as an attribute. */
export function firstToken(span: TraceSpan | undefined, ttftMs: number): void {
  if (!span) return;
  span.event('first_token');
  span.set({ 'ragwire.ttft_ms': ttftMs });
}
