// W3C trace context across ragwire's hops (docs/operations.md "Traces"), exported with the
// OpenTelemetry JS SDK over OTLP/HTTP. One setup for every server: the proxy and the shard server.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { formatTraceparent, parseTraceparent } from '@ragwire/protocol';

/** A server's `tracing` options. */
export interface TracingConfig {
  /** Off: no span is created and nothing is exported. */
  enabled: boolean; // false
  /** The OTLP/HTTP traces endpoint (JSON). */
  otlpEndpoint: string; // 'http://127.0.0.1:4318/v1/traces'
  /** `service.name` of the exported spans. */
  serviceName: string; // the server's name
  /** Longest a finished span waits before it is exported (batched). */
  exportDelayMs: number; // 1000 ms
  /** Share of the traces this server starts that are recorded (a caller's traceparent decides for its own); an unsampled request makes no span. */
  sampleRatio: number; // 1
}

/** Defaults of every field but `serviceName`, which each server names. */
export const TRACING_DEFAULTS = Object.freeze({ enabled: false, otlpEndpoint: 'http://127.0.0.1:4318/v1/traces', exportDelayMs: 1_000, sampleRatio: 1 });

/** JSON Schema of each `tracing` field, for a server's configuration schema. */
export const TRACING_SCHEMA_FIELDS = Object.freeze({
  enabled: { type: 'boolean' },
  otlpEndpoint: { type: 'string', pattern: '^https?://' },
  serviceName: { type: 'string', minLength: 1 },
  exportDelayMs: { type: 'number', exclusiveMinimum: 0 }, // ms
  sampleRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
});

/** One span of a request's trace and how its children attach to it. */
export interface TraceSpan {
  /** Whether this span is recorded and exported; an unsampled one only carries its trace's context on. */
  readonly recorded: boolean;
  /**
   * A child span, started now (or at `startTime`, performance-style epoch ms), linked to `links`
   * (spans of other traces it also serves, such as the other callers of a batched call).
   */
  child(name: string, attributes?: Attributes, startTime?: number, links?: readonly TraceSpan[]): TraceSpan;
  /** This span's W3C `traceparent`, for the next hop. */
  traceparent(): string;
  event(name: string, attributes?: Attributes): void;
  set(attributes: Attributes): void;
  /** Ends the span, marked as an error when `error` is given. */
  end(error?: string, endTime?: number): void;
}

/** A span the SDK records and exports. */
class RecordedSpan implements TraceSpan {
  readonly recorded = true;

  constructor(
    private readonly tracer: Tracer,
    readonly span: Span,
    private readonly context: Context,
  ) {}

  child(name: string, attributes: Attributes = {}, startTime?: number, links: readonly TraceSpan[] = []): TraceSpan {
    const linked = links.flatMap((l) => (l instanceof RecordedSpan ? [{ context: l.span.spanContext() }] : []));
    const options = {
      attributes,
      ...(startTime !== undefined ? { startTime } : {}),
      ...(linked.length > 0 ? { links: linked } : {}),
    };
    const span = this.tracer.startSpan(name, options, this.context);
    return new RecordedSpan(this.tracer, span, trace.setSpan(this.context, span));
  }

  traceparent(): string {
    const c = this.span.spanContext();
    return formatTraceparent(c.traceId, c.spanId, (c.traceFlags & TraceFlags.SAMPLED) !== 0);
  }

  event(name: string, attributes?: Attributes): void {
    this.span.addEvent(name, attributes);
  }

  set(attributes: Attributes): void {
    this.span.setAttributes(attributes);
  }

  end(error?: string, endTime?: number): void {
    if (error !== undefined) this.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    this.span.end(endTime);
  }
}

/**
 * A request whose trace is not sampled: no SDK span, context or attribute is made (most requests,
 * at a production sampleRatio), and the next hop gets the caller's traceparent, or a new unsampled
 * one, so it keeps the decision. Its children are itself.
 */
class UnsampledSpan implements TraceSpan {
  readonly recorded = false;

  constructor(private readonly parent: string) {}

  child(): TraceSpan {
    return this;
  }

  traceparent(): string {
    return this.parent;
  }

  event(): void {}

  set(): void {}

  end(): void {}
}

/** Eight random lowercase hex digits (Math.random, as the SDK's own id generator: ids need not be secret). */
function hex8(): string {
  return ((Math.random() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
}

/** A new trace's unsampled `traceparent`: random trace and span ids (neither all zeros). */
function unsampledRoot(): string {
  for (;;) {
    const traceparent = formatTraceparent(hex8() + hex8() + hex8() + hex8(), hex8() + hex8(), false);
    if (parseTraceparent(traceparent)) return traceparent;
  }
}

/**
 * A server's tracer: each request it serves is a server span, the child of the caller's
 * `traceparent` (or the root of a new trace); its stages are child spans (TraceSpan.child).
 * The sampling decision comes first: a caller's sampled flag, or sampleRatio for the traces this
 * server starts; what is not sampled never reaches the SDK.
 */
export class Tracing {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly sampleRatio: number;

  constructor(config: Readonly<TracingConfig>) {
    this.sampleRatio = config.sampleRatio;
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName }),
      // Only sampled traces get here (Tracing.request decides): every span they start is recorded.
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.otlpEndpoint }), scheduledDelayMillis: config.exportDelayMs })],
    });
    this.tracer = this.provider.getTracer(config.serviceName);
  }

  /** The server span of one request: the child of `traceparent` when it is a valid W3C one, else a new trace. */
  request(name: string, traceparent: string | string[] | undefined, attributes: Attributes): TraceSpan {
    const remote = parseTraceparent(traceparent);
    if (remote ? (remote.flags & TraceFlags.SAMPLED) === 0 : Math.random() >= this.sampleRatio)
      return new UnsampledSpan(remote ? (traceparent as string) : unsampledRoot());
    const parent = remote
      ? trace.setSpanContext(ROOT_CONTEXT, { traceId: remote.traceId, spanId: remote.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true })
      : ROOT_CONTEXT;
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    return new RecordedSpan(this.tracer, span, trace.setSpan(parent, span));
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
export function createTracing(config: Readonly<TracingConfig>): Tracing | undefined {
  return config.enabled ? new Tracing(config) : undefined;
}
