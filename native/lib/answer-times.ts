// How long the native data plane took over the queries it answered itself, in the shard server's
// request-latency buckets (REQUEST_LATENCY_BUCKETS): the loops time each answer (src/dataplane/served_stream.hpp).
import { REQUEST_LATENCY_BUCKETS } from '@ragwire/protocol';

/** Native answers by time: counts[i] within REQUEST_LATENCY_BUCKETS[i] and above the bound before it, the last entry above every bound; not cumulative. */
export interface AnswerTimes {
  counts: number[];
  /** The answers' times added up. */
  seconds: number;
}

/** The bounds as the loops take them (answerTimeBoundsNs). */
export const ANSWER_TIME_BOUNDS_NS: readonly number[] = REQUEST_LATENCY_BUCKETS.map((s) => Math.round(s * 1e9));

/** No answer yet. */
export function noAnswerTimes(): AnswerTimes {
  return { counts: new Array<number>(ANSWER_TIME_BOUNDS_NS.length + 1).fill(0), seconds: 0 };
}

/** `times` as the addon reports them, trimmed to the bounds given (one count per bound and one above). */
export function answerTimes(times: AnswerTimes): AnswerTimes {
  return { counts: times.counts.slice(0, ANSWER_TIME_BOUNDS_NS.length + 1), seconds: times.seconds };
}

/** The answer times of several loops, added up. */
export function sumAnswerTimes(all: readonly AnswerTimes[]): AnswerTimes {
  const total = noAnswerTimes();
  for (const t of all) {
    t.counts.forEach((c, i) => {
      if (i < total.counts.length) total.counts[i]! += c;
    });
    total.seconds += t.seconds;
  }
  return total;
}
