import { resolveSimConfig, type SimConfig } from './config';
import { SimReplica } from './replica';

export { defaultSimConfig, resolveSimConfig, type SimConfig } from './config';
export { BatchEngine, type EngineStats, type SequenceRequest, type FinishReason } from './engine';
export { PrefixCache } from './prefix-cache';
export { SimReplica } from './replica';
export { embed, tokenize, generateTokens } from './text';

/** A running simulator: N replicas, their base URLs, and a way to stop them. */
export interface RunningSim {
  urls: string[];
  replicas: SimReplica[];
  close(): Promise<void>;
}

/**
 * Starts `replicas` simulated vLLM servers on consecutive ports from `port`
 * (or each on an ephemeral port when `port` is 0).
 */
export async function startSim(options: Partial<SimConfig> = {}): Promise<RunningSim> {
  const config = resolveSimConfig(options);
  const replicas: SimReplica[] = [];
  const urls: string[] = [];
  try {
    for (let i = 0; i < config.replicas; i++) {
      const replica = new SimReplica(config);
      replicas.push(replica);
      urls.push(await replica.listen(config.port === 0 ? 0 : config.port + i));
    }
  } catch (error) {
    await Promise.all(replicas.map((r) => r.close()));
    throw error;
  }
  return { urls, replicas, close: async () => void (await Promise.all(replicas.map((r) => r.close()))) };
}
