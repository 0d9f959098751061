import type { EngineStats } from './engine';

export interface FrontendStats {
  requests: number;
  cancelled: number;
}

/**
 * Prometheus text exposition under vLLM's metric names (v1 engine), so a
 * scraper written for vLLM reads the simulator unchanged. `ragwire_sim_*`
 * series are the simulator's own.
 */
export function renderMetrics(model: string, engine: EngineStats, frontend: FrontendStats, legacyNames: boolean): string {
  const label = `model_name="${model}"`;
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}{${label}} ${value}`);
  };
  const counter = (name: string, help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}{${label}} ${value}`);
  };
  gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', engine.running);
  gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', engine.waiting);
  if (legacyNames) gauge('vllm:gpu_cache_usage_perc', 'GPU KV-cache usage. 1 means 100 percent usage.', engine.kvUsage);
  else gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', engine.kvUsage);
  counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', engine.promptTokens);
  counter('vllm:generation_tokens_total', 'Number of generation tokens processed.', engine.generationTokens);
  counter('vllm:prefix_cache_queries_total', 'Prefix cache queries, in terms of number of queried tokens.', engine.prefixQueriedTokens);
  counter('vllm:prefix_cache_hits_total', 'Prefix cache hits, in terms of number of cached tokens.', engine.prefixHitTokens);
  lines.push('# HELP vllm:request_success_total Count of successfully processed requests.', '# TYPE vllm:request_success_total counter');
  for (const reason of ['stop', 'length', 'abort'] as const) {
    lines.push(`vllm:request_success_total{${label},finished_reason="${reason}"} ${engine.finished[reason]}`);
  }
  counter('ragwire_sim_requests_total', 'HTTP requests received by the simulator.', frontend.requests);
  counter('ragwire_sim_requests_cancelled_total', 'Requests whose client disconnected before the response was complete.', frontend.cancelled);
  counter('ragwire_sim_engine_steps_total', 'Engine steps run.', engine.steps);
  return lines.join('\n') + '\n';
}
