#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { defaultSimConfig, type SimConfig } from './config';
import { startSim } from './index';

const num = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
};

const d = defaultSimConfig;
const program = new Command('ragwire-vllm-sim')
  .description('A simulated vLLM server (OpenAI API, continuous-batching cost model). Responses carry x-ragwire-sim: 1.')
  .option('--host <host>', 'address to bind', d.host)
  .option('--port <port>', 'first port; replica i listens on port + i (0: ephemeral ports)', num, d.port)
  .option('--replicas <n>', 'independent replicas, each with its own engine and prefix cache', num, d.replicas)
  .option('--model <id>', 'generation model id', d.model)
  .option('--embedding-model <id>', 'embedding model id', d.embeddingModel)
  .option('--embedding-dim <n>', 'embedding dimension', num, d.embeddingDim)
  .option('--step-base-ms <ms>', 'decode step base cost (ms)', num, d.stepBaseMs)
  .option('--step-per-seq-ms <ms>', 'decode step cost per running sequence (ms)', num, d.stepPerSeqMs)
  .option('--prefill-per-token-ms <ms>', 'prefill cost per uncached prompt token (ms)', num, d.prefillPerTokenMs)
  .option('--cached-prefill-per-token-ms <ms>', 'prefill cost per cached prompt token (ms)', num, d.cachedPrefillPerTokenMs)
  .option('--frontend-per-request-ms <ms>', 'serialized API front-end cost per request (ms)', num, d.frontendPerRequestMs)
  .option('--kv-capacity-tokens <n>', 'KV cache capacity (tokens); beyond it requests wait', num, d.kvCapacityTokens)
  .option('--prefix-cache-tokens <n>', 'prefix cache capacity (tokens)', num, d.prefixCacheTokens)
  .option('--block-size <n>', 'tokens per KV block', num, d.blockSize)
  .option('--max-num-seqs <n>', 'most sequences in one batch', num, d.maxNumSeqs)
  .option('--max-model-len <n>', 'longest prompt + output (tokens)', num, d.maxModelLen)
  .option('--seed <n>', 'seed mixed into generated text', num, d.seed)
  .option('--legacy-metric-names', 'report vllm:gpu_cache_usage_perc instead of vllm:kv_cache_usage_perc', false);

program.parse();
const options = program.opts<SimConfig>();

async function main(): Promise<void> {
  const sim = await startSim(options);
  process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), msg: 'listening', simulator: true, model: options.model, urls: sim.urls }) + '\n');
  const stop = () => {
    // Graceful close waits for open connections; never longer than 5 s.
    setTimeout(() => process.exit(0), 5_000).unref();
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`ragwire-vllm-sim: ${(error as Error).message}\n`);
  process.exit(1);
});
