import { ProxyError, retryAfterHeaders } from '../errors';

/** One side of an A/B run: the same question answered one way. */
export interface AbRun {
  /** What ran, e.g. "HTTP/JSON retrieval + direct LLM". */
  label: string;
  /** End to end, in ms. */
  totalMs: number;
  /** Milliseconds per stage (`embed`, `retrieve`, `merge`, `generate`, ...). */
  stages: Record<string, number>;
  /** The answer, to show that both sides answered the same question. */
  answer: string;
}

/** The same question through the baseline and through ragwire. */
export interface AbReport {
  question: string;
  baseline: AbRun;
  ragwire: AbRun;
  /** baseline.totalMs / ragwire.totalMs: above 1, ragwire was faster. */
  speedup: number;
}

/** What the process that starts the proxy may plug into its dashboard. */
export interface DashboardHooks {
  /**
   * Answers `question` once the baseline way and once the ragwire way, with
   * real calls, and reports both timings. Without it, `POST /dashboard/api/ab`
   * answers 501 `ab_unavailable`.
   */
  runAb?(question: string): Promise<AbReport>;
}

/** Builds a report from two runs, computing the speedup. */
export function abReport(question: string, baseline: AbRun, ragwire: AbRun): AbReport {
  return { question, baseline, ragwire, speedup: baseline.totalMs / ragwire.totalMs };
}

/** Why a hook's report cannot be shown, or undefined when it can. */
function malformed(report: AbReport): string | undefined {
  if (!report || typeof report !== 'object') return 'the report is not an object';
  for (const side of ['baseline', 'ragwire'] as const) {
    const run = report[side];
    if (!run || typeof run !== 'object') return `${side} is missing`;
    if (!(Number.isFinite(run.totalMs) && run.totalMs >= 0)) return `${side}.totalMs must be a finite number >= 0, got ${run.totalMs}`;
    if (!run.stages || typeof run.stages !== 'object') return `${side}.stages must be an object`;
    for (const [stage, ms] of Object.entries(run.stages)) {
      if (!(Number.isFinite(ms) && ms >= 0)) return `${side}.stages.${stage} must be a finite number >= 0, got ${ms}`;
    }
  }
  if (!Number.isFinite(report.speedup)) return `speedup must be a finite number, got ${report.speedup}`;
  return undefined;
}

/**
 * Runs the A/B hook one run at a time (two overlapping runs would slow each
 * other and measure nothing), bounded by `timeoutMs`, and remembers the last
 * report for the dashboard.
 */
export class AbRunner {
  private running = false;
  private last: AbReport | undefined;

  constructor(
    private readonly hooks: DashboardHooks,
    private readonly timeoutMs: number,
  ) {}

  get available(): boolean {
    return typeof this.hooks.runAb === 'function';
  }

  get lastReport(): AbReport | undefined {
    return this.last;
  }

  async run(question: string): Promise<AbReport> {
    const runAb = this.hooks.runAb;
    if (!runAb) throw new ProxyError('ab_unavailable', 'no A/B comparison is registered: start the proxy with extensions.dashboard.runAb (the RAG demo does)');
    if (this.running)
      throw new ProxyError('ab_busy', 'an A/B run is in progress; runs do not overlap, so both measure an otherwise idle path', null, retryAfterHeaders(1000));
    this.running = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ProxyError('ab_failed', `the A/B run did not finish within ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      let report: AbReport;
      try {
        report = await Promise.race([runAb.call(this.hooks, question), timeout]);
      } catch (error) {
        if (error instanceof ProxyError) throw error;
        throw new ProxyError('ab_failed', `the A/B run failed: ${(error as Error)?.message ?? String(error)}`);
      }
      const problem = malformed(report);
      if (problem) throw new ProxyError('ab_failed', `the A/B hook returned a malformed report: ${problem}`);
      this.last = report;
      return report;
    } finally {
      clearTimeout(timer);
      this.running = false;
    }
  }
}
