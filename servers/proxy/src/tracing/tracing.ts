import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ProxyConfig } from '../config';

/**
 * W3C trace context across the proxy's hops, exported with the OpenTelemetry
 * JS SDK over OTLP/HTTP, off by default. When off, nothing is created: a
 * request carries no trace (`undefined`) and every hook is one `if`. When on,
 * each request on the OpenAI and vLLM routes is a server span, the child of
 * the client's `traceparent` (or a new trace); its stages are child spans,
 * and the `traceparent` of the upstream call's span goes upstream.
 */

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** One span of a request's trace and how its children attach to it. */
export class TraceSpan {
  constructor(private readonly tracer: Tracer, readonly span: Span, private readonly context: Context) {}

  /** A child span, started now (or at `startTime`, performance-style epoch ms). */
  child(name: string, attributes: Attributes = {}, startTime?: number): TraceSpan {
    const span = this.tracer.startSpan(name, { attributes, ...(startTime !== undefined ? { startTime } : {}) }, this.context);
    return new TraceSpan(this.tracer, span, trace.setSpan(this.context, span));
  }

  /** This span's W3C `traceparent`, for the next hop. */
  traceparent(): string {
    const c = this.span.spanContext();
    return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & TraceFlags.SAMPLED ? 1 : 0).toString(16).padStart(2, '0')}`;
  }

  event(name: string, attributes?: Attributes): void {
    this.span.addEvent(name, attributes);
  }

  set(attributes: Attributes): void {
    this.span.setAttributes(attributes);
  }

  /** Ends the span, marked as an error when `error` is given. */
  end(error?: string, endTime?: number): void {
    if (error !== undefined) this.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    this.span.end(endTime);
  }
}

export class ProxyTracing {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;

  constructor(config: Readonly<ProxyConfig['tracing']>) {
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName }),
      // A client's sampling decision (the traceparent's flag) is kept; new traces are sampled at sampleRatio.
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.otlpEndpoint }), scheduledDelayMillis: config.exportDelayMs })],
    });
    this.tracer = this.provider.getTracer('ragwire-proxy');
  }

  /** The server span of one request: the child of the client's `traceparent` when it sent a valid one. */
  request(name: string, traceparent: string | string[] | undefined, attributes: Attributes): TraceSpan {
    let parent = ROOT_CONTEXT;
    const m = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
    if (m && m[1] !== '0'.repeat(32) && m[2] !== '0'.repeat(16)) {
      parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16) & 1, isRemote: true });
    }
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    return new TraceSpan(this.tracer, span, trace.setSpan(parent, span));
  }

  /** Exports what is buffered. */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  close(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** The tracing a config asks for: none (the default), or an OTLP exporter. */
export function createTracing(config: Readonly<ProxyConfig['tracing']>): ProxyTracing | undefined {
  return config.enabled ? new ProxyTracing(config) : undefined;
}
