import { createHash } from 'node:crypto';
import type { ProxyConfig } from '../config';
import type { Upstream } from './upstream';

export type RouteReason = 'affinity' | 'least-outstanding' | 'round-robin';

/** Picks one upstream among `candidates` (healthy, with a free slot, never empty). */
export interface Router {
  pick(candidates: readonly Upstream[], prefixText: string | undefined): { upstream: Upstream; reason: RouteReason };
}

/** Least requests in flight; ties rotate so equal upstreams share the load. */
export class LeastOutstandingRouter implements Router {
  private turn = 0;

  pick(candidates: readonly Upstream[]): { upstream: Upstream; reason: RouteReason } {
    const start = this.turn++ % candidates.length;
    let best = candidates[start]!;
    for (let i = 1; i < candidates.length; i++) {
      const u = candidates[(start + i) % candidates.length]!;
      if (u.inflight < best.inflight) best = u;
    }
    return { upstream: best, reason: 'least-outstanding' };
  }
}

export class RoundRobinRouter implements Router {
  private turn = 0;

  pick(candidates: readonly Upstream[]): { upstream: Upstream; reason: RouteReason } {
    return { upstream: candidates[this.turn++ % candidates.length]!, reason: 'round-robin' };
  }
}

/**
 * Prefix affinity: prompts are cut into fixed-size character blocks, each
 * named by a hash chained over the blocks before it (as vLLM names KV blocks),
 * and every block remembers the upstream that last prefilled it. A request
 * goes to the upstream holding its longest remembered prefix, so a RAG prompt
 * that shares a system prompt and retrieved documents with an earlier one
 * lands where those tokens are likely still in the KV cache. A match must
 * cover at least `minMatchRatio` of the prompt's blocks: sharing only a
 * system prompt is not worth piling every request onto one upstream. When the
 * affine upstream is busier than the least loaded by more than
 * `maxImbalance`, or the prompt is short, it falls back to least outstanding.
 */
export class PrefixAffinityRouter implements Router {
  private readonly owners = new Map<string, Upstream>();
  private readonly fallback = new LeastOutstandingRouter();

  constructor(private readonly options: Readonly<ProxyConfig['routing']>) {}

  /** Chained hashes of each full block of `text`. */
  blockHashes(text: string): string[] {
    const size = this.options.prefixBlockChars;
    const hashes: string[] = [];
    let prev = '';
    for (let start = 0; start + size <= text.length; start += size) {
      prev = createHash('sha1')
        .update(prev)
        .update(text.slice(start, start + size))
        .digest('base64');
      hashes.push(prev);
    }
    return hashes;
  }

  pick(candidates: readonly Upstream[], prefixText: string | undefined): { upstream: Upstream; reason: RouteReason } {
    if (!prefixText || prefixText.length < this.options.minPrefixChars) return this.fallback.pick(candidates);
    const hashes = this.blockHashes(prefixText);
    let least = Infinity;
    for (const c of candidates) least = Math.min(least, c.inflight);
    let chosen: Upstream | undefined;
    const minBlocks = Math.max(1, Math.ceil(hashes.length * this.options.minMatchRatio));
    for (let i = hashes.length - 1; i >= minBlocks - 1 && !chosen; i--) {
      const owner = this.owners.get(hashes[i]!);
      if (owner && candidates.includes(owner) && owner.inflight - least <= this.options.maxImbalance) chosen = owner;
    }
    const result = chosen ? { upstream: chosen, reason: 'affinity' as const } : this.fallback.pick(candidates);
    for (const h of hashes) {
      this.owners.delete(h);
      this.owners.set(h, result.upstream);
    }
    while (this.owners.size > this.options.affinityEntries) this.owners.delete(this.owners.keys().next().value as string);
    return result;
  }
}

export function createRouter(options: Readonly<ProxyConfig['routing']>): Router {
  switch (options.strategy) {
    case 'prefix-affinity':
      return new PrefixAffinityRouter(options);
    case 'round-robin':
      return new RoundRobinRouter();
    default:
      return new LeastOutstandingRouter();
  }
}
