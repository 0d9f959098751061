import type { Logger } from 'pino';
import type { CompletionsBatcher } from './batching/completions-batcher';
import type { EmbeddingsBatcher } from './batching/embeddings-batcher';
import type { ProxyConfig } from './config';
import type { StageRecorder } from './dashboard/stage-recorder';
import type { RequestPipeline } from './http/pipeline';
import type { ResponseCache } from './http/response-cache';
import type { ProxyMetrics } from './metrics';
import type { RagGateway } from './rag/gateway';
import type { Tracing } from '@ragwire/tracing';
import type { AdmissionController } from './upstream/admission';
import type { UpstreamCaller } from './upstream/upstream-call';
import type { UpstreamSet } from './upstream/upstream-set';

/** Everything a route needs, built once per proxy. */
export interface ProxyContext {
  config: Readonly<ProxyConfig>;
  log: Logger;
  metrics: ProxyMetrics;
  upstreams: UpstreamSet;
  admission: AdmissionController;
  caller: UpstreamCaller;
  batcher: EmbeddingsBatcher;
  /** Present when `completionsBatching.enabled`. */
  completions: CompletionsBatcher | undefined;
  cache: ResponseCache | undefined;
  /**
   * Per-stage latencies, throughput and queue depth, which the dashboard
   * charts. The proxy records its own stages; an app in the same process may
   * add its own (`stages.record({ stage: 'retrieve', ms })`), one in another
   * process posts them to /dashboard/api/stages.
   */
  stages: StageRecorder;
  /** Retrieval-augmented chat (model aliases and the `ragwire` body field); idle without `rag.collections`. */
  rag: RagGateway;
  /** OpenTelemetry tracing; undefined when off (the default). */
  tracing: Tracing | undefined;
}

/**
 * Something that adds routes to the proxy's request pipeline (the dashboard
 * is one). `register` may return what to run when the proxy closes.
 */
export interface ProxyPlugin {
  name: string;
  // biome-ignore lint/suspicious/noConfusingVoidType: a plug-in returns its stop function, or nothing
  register(pipeline: RequestPipeline, ctx: ProxyContext): (() => void) | void;
}
