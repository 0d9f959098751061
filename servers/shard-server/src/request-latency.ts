// The shard server's request-latency histogram: the requests JavaScript answers, observed as each is
// answered, and the queries the native data plane answered itself, added in from the loops' own
// counts in the same buckets (REQUEST_LATENCY_BUCKETS) whenever the histogram is read.
import { Histogram, type Registry } from 'prom-client';
import { sumAnswerTimes, type AnswerTimes } from '@ragwire/native';
import { REQUEST_LATENCY_BUCKETS } from '@ragwire/protocol';

/** One exported sample: prom-client's get() puts the `type` label in `labels`, its text exposition keeps it in `sharedLabels`. */
interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string | number>;
  value: number;
}

/** The base class's text-exposition read (not in prom-client's types), which its registry prefers to get(). */
const baseForPromString = Reflect.get(Histogram.prototype, 'getForPromString') as (this: Histogram<'type'>) => Promise<{ values: Sample[] }>;

export class RequestLatency extends Histogram<'type'> {
  #native: () => AnswerTimes[] = () => [];

  constructor(registry: Registry) {
    super({
      name: 'ragwire_shard_request_duration_seconds',
      help: 'Time from a decoded request to its reply being written, by message type; queries the native data plane answered count from the whole frame to its reply.',
      labelNames: ['type'],
      buckets: [...REQUEST_LATENCY_BUCKETS],
      registers: [registry],
    });
    // The query series exists even when the native data plane answers every query.
    this.zero({ type: 'query' });
  }

  /** The native loops' answer times, read with the histogram. */
  addNativeAnswers(times: () => AnswerTimes[]): void {
    this.#native = times;
  }

  override async get(): ReturnType<Histogram<'type'>['get']> {
    const data = await super.get();
    this.#addNative(data.values as Sample[]);
    return data;
  }

  async getForPromString(): Promise<{ values: Sample[] }> {
    const data = await baseForPromString.call(this);
    this.#addNative(data.values);
    return data;
  }

  #addNative(values: Sample[]): void {
    const times = this.#native();
    if (times.length === 0) return;
    const { counts, seconds } = sumAnswerTimes(times);
    // Per bound, the native answers within it (cumulative, as the exported buckets are).
    let running = 0;
    const within = counts.map((c) => (running += c));
    const count = running;
    for (const v of values) {
      if ((v.sharedLabels?.type ?? v.labels.type) !== 'query') continue;
      if (v.metricName?.endsWith('_sum')) v.value += seconds;
      else if (v.metricName?.endsWith('_count')) v.value += count;
      else {
        const i = REQUEST_LATENCY_BUCKETS.indexOf(Number(v.labels.le));
        v.value += i >= 0 ? within[i]! : count; // le="+Inf": every answer
      }
    }
  }
}
