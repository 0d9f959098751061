#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ConfigError, configFromEnv, resolveProxyConfig, type DeepPartial, type ProxyConfig } from './config';
import { hashKey } from './http/tenants';
import { startProxy } from './server';

const int = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return n;
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

const program = new Command('ragwire-proxy')
  .description('OpenAI-compatible proxy in front of vLLM servers: batching, admission, routing, failover, caching, metrics.')
  .option('--config <file>', 'YAML configuration file (env RAGWIRE_PROXY_CONFIG)')
  .option('--host <host>', 'address to bind (default 127.0.0.1)')
  .option('--port <port>', 'port to listen on (default 8080; 0: ephemeral)', int)
  .option('--upstream <url>', 'a vLLM server base URL; repeat for replicas', collect)
  .option('--model <id>', 'serve only this model; repeat for more (default: what upstreams list)', collect)
  .option('--api-key <key>', 'accept this API key; repeat for more (default: no auth)', collect)
  .option('--routing <strategy>', 'prefix-affinity | least-outstanding | round-robin')
  .option('--max-queue <n>', 'admission queue per model (requests)', int)
  .option('--max-concurrency <n>', 'most requests in flight per upstream', int)
  .option('--max-queue-wait-ms <ms>', 'longest wait in the admission queue; a predicted wait over half of it is shed at once', int)
  .option('--no-embeddings-batching', 'forward each /v1/embeddings call on its own')
  .option('--completions-batching', 'coalesce concurrent non-streaming /v1/completions calls into list prompts')
  .option('--cache', 'enable the exact response cache for temperature-0 requests')
  .option('--keys-file <file>', 'API keys file (YAML or JSON; hashed keys, scopes, budgets); re-read on SIGHUP')
  .option('--otlp-endpoint <url>', 'export OpenTelemetry traces to this OTLP/HTTP endpoint (env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); off without it')
  .option('--hash-key <key>', 'print the keys-file hash of <key> and exit')
  .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent');

program.parse();
if (program.opts().hashKey !== undefined) {
  process.stdout.write(`${hashKey(String(program.opts().hashKey))}\n`);
  process.exit(0);
}
const opts = program.opts<{
  keysFile?: string;
  otlpEndpoint?: string;
  config?: string;
  host?: string;
  port?: number;
  upstream?: string[];
  model?: string[];
  apiKey?: string[];
  routing?: ProxyConfig['routing']['strategy'];
  maxQueue?: number;
  maxQueueWaitMs?: number;
  maxConcurrency?: number;
  embeddingsBatching: boolean;
  completionsBatching?: boolean;
  cache?: boolean;
  logLevel?: ProxyConfig['logLevel'];
}>();

function fromFlags(): DeepPartial<ProxyConfig> {
  const layer: DeepPartial<ProxyConfig> = {};
  if (opts.host !== undefined) layer.host = opts.host;
  if (opts.port !== undefined) layer.port = opts.port;
  if (opts.upstream) layer.upstreams = opts.upstream;
  if (opts.model) layer.models = opts.model;
  if (opts.apiKey) layer.auth = { keys: opts.apiKey.map((key) => ({ key })) };
  if (opts.keysFile) layer.auth = { ...layer.auth, keysFile: opts.keysFile };
  if (opts.otlpEndpoint) layer.tracing = { enabled: true, otlpEndpoint: opts.otlpEndpoint };
  if (opts.routing) layer.routing = { strategy: opts.routing };
  if (opts.maxQueue !== undefined || opts.maxQueueWaitMs !== undefined || opts.maxConcurrency !== undefined) {
    layer.admission = {};
    if (opts.maxQueue !== undefined) layer.admission.maxQueue = opts.maxQueue;
    if (opts.maxQueueWaitMs !== undefined) layer.admission.maxQueueWaitMs = opts.maxQueueWaitMs;
    if (opts.maxConcurrency !== undefined) layer.admission.maxConcurrencyPerUpstream = opts.maxConcurrency;
  }
  if (!opts.embeddingsBatching) layer.embeddingsBatching = { enabled: false };
  if (opts.completionsBatching) layer.completionsBatching = { enabled: true };
  if (opts.cache) layer.cache = { enabled: true };
  if (opts.logLevel) layer.logLevel = opts.logLevel;
  return layer;
}

let config: Readonly<ProxyConfig>;
try {
  const file = opts.config ?? process.env.RAGWIRE_PROXY_CONFIG;
  const fromFile = file ? ((parseYaml(readFileSync(file, 'utf8')) ?? {}) as DeepPartial<ProxyConfig>) : {};
  config = resolveProxyConfig(fromFile, configFromEnv(process.env), fromFlags());
} catch (error) {
  const prefix = error instanceof ConfigError ? 'invalid configuration' : 'cannot read configuration';
  process.stderr.write(`ragwire-proxy: ${prefix}: ${(error as Error).message}\n`);
  process.exit(2);
}

async function main(config: Readonly<ProxyConfig>): Promise<void> {
  const proxy = await startProxy(config);
  // The listening line is what scripts and supervisors wait for: print it at any log level.
  if (!proxy.context.log.isLevelEnabled('info')) {
    process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), name: 'ragwire-proxy', msg: 'ragwire-proxy listening', url: proxy.url }) + '\n');
  }
  const stop = () => {
    // Graceful close waits for open connections; never longer than 5 s.
    setTimeout(() => process.exit(0), 5_000).unref();
    void proxy.close().then(() => process.exit(0));
  };
  process.on('SIGHUP', () => proxy.reloadKeys());
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(config).catch((error: unknown) => {
  process.stderr.write(`ragwire-proxy: ${(error as Error).message}\n`);
  process.exit(1);
});
