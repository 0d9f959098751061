// How the native data plane's threads wait for work (the UCX progress thread, the native+tcp://
// loops): after their last activity they spin this long, then sleep (in epoll) until woken.
import { availableParallelism } from 'node:os';

/**
 * Microseconds a native data-plane thread spins after its last activity before it sleeps; -1 never
 * sleeps (polling: the lowest latency, one core busy per thread). `RAGWIRE_POLL=1` means -1 and
 * `RAGWIRE_SPIN_US` sets it; else 50 on hosts with more than 4 cores and 0 on smaller ones, where a
 * spinning thread takes the core the JavaScript thread needs (docs/benchmarks.md: on 2 cores a 50 us
 * spin tripled a UCX round trip).
 */
export function spinMicros(): number {
  if (process.env.RAGWIRE_POLL === '1') return -1;
  const v = process.env.RAGWIRE_SPIN_US;
  if (v !== undefined && v !== '') {
    const us = Number(v);
    if (!Number.isInteger(us) || us < -1) throw new RangeError(`RAGWIRE_SPIN_US must be an integer >= -1, got ${JSON.stringify(v)}`);
    return us;
  }
  return availableParallelism() > 4 ? 50 : 0;
}
