// Sampling and propagation of @ragwire/tracing, exported over OTLP/HTTP to a real receiver in this
// process: a sampled caller's trace is recorded and continued, an unsampled one is passed on
// untouched and never reaches the SDK, and sampleRatio picks the share of new traces recorded.
import { parseTraceparent } from '@ragwire/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver, attribute } from './receiver';
import { Tracing, TRACING_DEFAULTS } from './tracing';

let receiver: OtlpReceiver;
const tracings: Tracing[] = [];

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
});

afterAll(async () => {
  await Promise.all(tracings.map((t) => t.close()));
  await receiver?.close();
});

function tracing(sampleRatio = 1): Tracing {
  const t = new Tracing({ ...TRACING_DEFAULTS, enabled: true, otlpEndpoint: receiver.endpoint, serviceName: 'test', exportDelayMs: 10_000, sampleRatio });
  tracings.push(t);
  return t;
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = '00f067aa0ba902b7';

describe('tracing', () => {
  it("records a sampled caller's request as the child of its span, and passes its own span on", async () => {
    const t = tracing();
    const span = t.request('GET /x', `00-${TRACE_ID}-${CALLER}-01`, { 'http.route': '/x' });
    expect(span.recorded).toBe(true);
    const stage = span.child('stage', { n: 1 });
    const next = parseTraceparent(stage.traceparent())!;
    expect(next.traceId).toBe(TRACE_ID);
    expect(next.flags & 1).toBe(1);
    stage.end();
    span.end();
    await t.flush();
    const mine = receiver.spans.filter((s) => s.traceId === TRACE_ID);
    const root = mine.find((s) => s.name === 'GET /x');
    expect(root?.parentSpanId).toBe(CALLER);
    expect(root?.service).toBe('test');
    expect(attribute(root!, 'http.route')).toBe('/x');
    const child = mine.find((s) => s.name === 'stage');
    expect(child?.parentSpanId).toBe(root?.spanId);
    expect(child?.spanId).toBe(next.spanId);
  });

  it("passes an unsampled caller's traceparent on untouched and records nothing", async () => {
    const t = tracing();
    const caller = `00-${TRACE_ID.replace('4b', '5b')}-${CALLER}-00`;
    const before = receiver.spans.length;
    const span = t.request('GET /x', caller, {});
    expect(span.recorded).toBe(false);
    const stage = span.child('stage', { n: 1 });
    expect(stage.recorded).toBe(false);
    expect(stage.traceparent()).toBe(caller);
    stage.set({ a: 1 });
    stage.event('e');
    stage.end('failed');
    span.end();
    await t.flush();
    expect(receiver.spans.length).toBe(before);
  });

  it('records the share sampleRatio asks of the traces it starts; the rest carry a new unsampled traceparent', async () => {
    const t = tracing(0.25);
    const n = 4000;
    const ids = new Set<string>();
    let recorded = 0;
    for (let i = 0; i < n; i++) {
      const span = t.request('GET /ratio', undefined, {});
      const parent = parseTraceparent(span.traceparent());
      expect(parent).toBeDefined();
      expect(parent!.flags & 1).toBe(span.recorded ? 1 : 0);
      ids.add(parent!.traceId);
      if (span.recorded) recorded++;
      span.end();
    }
    // Binomial(4000, 0.25): mean 1000, standard deviation 27; six deviations either side.
    expect(recorded).toBeGreaterThan(1000 - 6 * 27);
    expect(recorded).toBeLessThan(1000 + 6 * 27);
    expect(ids.size).toBe(n);
    await t.flush();
    const exported = receiver.spans.filter((s) => s.name === 'GET /ratio');
    expect(exported).toHaveLength(recorded);
    for (const s of exported) expect(s.parentSpanId ?? '').toBe('');
  });

  it('links a batched call to the recorded spans it serves, not to unsampled ones', async () => {
    const t = tracing();
    const a = t.request('caller', `00-${'a'.repeat(32)}-${CALLER}-01`, {});
    const b = t.request('caller', `00-${'b'.repeat(32)}-${CALLER}-01`, {});
    const c = t.request('caller', `00-${'c'.repeat(32)}-${CALLER}-00`, {});
    const batch = a.child('batch', {}, undefined, [b, c]);
    batch.end();
    for (const s of [a, b, c]) s.end();
    await t.flush();
    const exported = receiver.spans.find((s) => s.name === 'batch' && s.traceId === 'a'.repeat(32));
    expect(exported?.links?.map((l) => l.traceId)).toEqual(['b'.repeat(32)]);
  });
});
