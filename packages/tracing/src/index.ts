export { TraceSpan, Tracing, createTracing, TRACING_DEFAULTS, TRACING_SCHEMA_FIELDS, type TracingConfig } from './tracing';
