export { Tracing, createTracing, TRACING_DEFAULTS, TRACING_SCHEMA_FIELDS, type TraceSpan, type TracingConfig } from './tracing';
