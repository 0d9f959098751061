import { fnv1a } from './text';

/**
 * Automatic prefix caching as vLLM does it: prompts are cut into fixed-size
 * blocks of tokens, each block named by a hash chained over every block before
 * it, so a block matches only when the whole prefix up to it matches. Least
 * recently used blocks are evicted when capacity is reached.
 */
export class PrefixCache {
  private readonly blocks = new Map<number, true>();
  private readonly capacityBlocks: number;
  hitTokens = 0;
  queriedTokens = 0;

  constructor(
    capacityTokens: number,
    readonly blockSize: number,
  ) {
    this.capacityBlocks = Math.floor(capacityTokens / blockSize);
  }

  /** The chained hash of every full block of `tokens`. */
  blockHashes(tokens: readonly string[]): number[] {
    const hashes: number[] = [];
    let h = 0x811c9dc5;
    for (let start = 0; start + this.blockSize <= tokens.length; start += this.blockSize) {
      h = fnv1a(tokens.slice(start, start + this.blockSize).join('\u0001'), h);
      hashes.push(h);
    }
    return hashes;
  }

  /**
   * How many leading tokens are cached; then inserts (or refreshes) every full
   * block of the prompt, as a prefill would leave them in the KV cache.
   */
  lookupAndInsert(tokens: readonly string[]): number {
    const hashes = this.blockHashes(tokens);
    let cachedBlocks = 0;
    while (cachedBlocks < hashes.length && this.blocks.has(hashes[cachedBlocks]!)) cachedBlocks++;
    if (this.capacityBlocks > 0) {
      for (const h of hashes) {
        this.blocks.delete(h);
        this.blocks.set(h, true);
      }
      while (this.blocks.size > this.capacityBlocks) {
        const oldest = this.blocks.keys().next().value as number;
        this.blocks.delete(oldest);
      }
    }
    const cachedTokens = cachedBlocks * this.blockSize;
    this.hitTokens += cachedTokens;
    this.queriedTokens += tokens.length;
    return cachedTokens;
  }

  get usedBlocks(): number {
    return this.blocks.size;
  }
}
