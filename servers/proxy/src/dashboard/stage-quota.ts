import { ProxyError, retryAfterHeaders } from '../errors';
import { KeyRateLimiter } from '../http/rate-limit';
import type { StageSample } from './stage-recorder';

/** Senders remembered; beyond, the oldest is forgotten (its stages stay until they expire). */
const MAX_SENDERS = 1024;

/**
 * What one sender of `POST /dashboard/api/stages` may put on the dashboard:
 * at most `stagesPerSender` distinct stage names of its own opening, and
 * `samplesPerSecond` samples a second. A sender is an API key's name, or the
 * client's address when no key is configured. So junk from one sender fills
 * its own share and never the room of the proxy's stages (reserved in the
 * StageRecorder) or of other senders.
 */
export class StageQuota {
  private readonly opened = new Map<string, Set<string>>();
  private readonly limiter = new KeyRateLimiter();

  constructor(
    private readonly stagesPerSender: number,
    private readonly samplesPerSecond: number,
  ) {}

  /** Throws `invalid_request` (too many stages) or `rate_limit_exceeded` (too many samples); else counts the samples against `sender`. */
  admit(sender: string, samples: readonly StageSample[], isOpen: (stage: string) => boolean): void {
    const mine = this.opened.get(sender) ?? new Set<string>();
    const fresh = new Set<string>();
    samples.forEach((s, i) => {
      if (mine.has(s.stage) || fresh.has(s.stage) || isOpen(s.stage)) return;
      if (mine.size + fresh.size >= this.stagesPerSender) {
        throw new ProxyError(
          'invalid_request',
          `samples[${i}]: stage "${s.stage}" would be this sender's stage number ${this.stagesPerSender + 1}; each sender may open ${this.stagesPerSender}`,
          `samples[${i}].stage`,
        );
      }
      fresh.add(s.stage);
    });
    for (let n = 0; n < samples.length; n++) {
      const waitMs = this.limiter.take(sender, this.samplesPerSecond, this.samplesPerSecond);
      if (waitMs > 0)
        throw new ProxyError('rate_limit_exceeded', `stage samples from "${sender}" exceed ${this.samplesPerSecond} a second`, null, retryAfterHeaders(waitMs));
    }
    if (fresh.size === 0) return;
    for (const stage of fresh) mine.add(stage);
    this.opened.delete(sender);
    this.opened.set(sender, mine);
    if (this.opened.size > MAX_SENDERS) this.opened.delete(this.opened.keys().next().value!);
  }
}
