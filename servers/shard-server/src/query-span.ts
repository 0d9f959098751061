// The shard server's span of one traced QUERY (docs/protocol.md §5.12, docs/operations.md "Traces").
import { performance } from 'node:perf_hooks';
import type { QueryRequest, Response } from '@ragwire/protocol';
import type { QueryStageListener } from '@ragwire/store';
import type { TraceSpan, Tracing } from '@ragwire/tracing';

/** The span of one query, the child of the caller's span named by its frame's `trace`. */
export class QuerySpan {
  private readonly span: TraceSpan;
  private readonly startedAt = performance.now();

  constructor(tracing: Tracing, request: QueryRequest & { trace: string }, queuedMs: number) {
    const n = request.dim > 0 ? request.vectors.length / request.dim : (request.text ?? request.sparse ?? []).length;
    this.span = tracing.request('ragwire.shard.query', request.trace, {
      'ragwire.collection': request.collection,
      'ragwire.n': n,
      'ragwire.k': request.k,
      'ragwire.queue_ms': queuedMs,
    });
  }

  /** A stage of the query inside the store and the engine (filter, engine.search, hybrid.search, payloads), as a child span. */
  readonly stage: QueryStageListener = (stage, startMs, endMs, attributes) => {
    this.span.child(stage, attributes, startMs).end(undefined, endMs);
  };

  /** Ends the span with the store's search time (filter, engine search, payloads) and the hits, or the error. */
  end(outcome: Response | unknown): void {
    this.span.set({ 'ragwire.search_ms': performance.now() - this.startedAt });
    if (outcome instanceof Error) {
      this.span.set({ 'ragwire.error_code': (outcome as { code?: string }).code ?? 'RAGWIRE_ERR_INTERNAL' });
      this.span.end(outcome.message);
      return;
    }
    if (isResult(outcome)) this.span.set({ 'ragwire.hits': outcome.ids.length, ...(outcome.exact !== undefined ? { 'ragwire.exact': outcome.exact } : {}) });
    this.span.end();
  }
}

function isResult(value: unknown): value is Extract<Response, { type: 'result' }> {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'result';
}
