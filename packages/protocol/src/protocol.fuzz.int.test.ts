import { describe, expect, it } from 'vitest';
import { runFrameFuzzer } from './testing/frame-fuzzer';

// RAGWIRE_FUZZ_FRAMES and RAGWIRE_FUZZ_SEED reproduce a failure or fuzz for longer.
const FRAMES = Number(process.env.RAGWIRE_FUZZ_FRAMES ?? 1_000_000);
const SEED = Number(process.env.RAGWIRE_FUZZ_SEED ?? 0x5eed);

describe('FrameDecoder under fuzzing', () => {
  it(`turns ${FRAMES} random and mutated frames into messages or typed errors, within the limits`, () => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const report = runFrameFuzzer({ frames: FRAMES, seed: SEED });
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = process.cpuUsage(cpu).user / 1e6;
    console.log(
      `fuzz: ${report.frames} frames in ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s CPU, seed ${SEED}): ${report.decoded} decoded, ` +
        `${report.refused} refused (${report.fatal} fatal); max buffered ${report.maxBuffered} B, max copy ${report.maxCopy} B\n` +
        Object.entries(report.byCode)
          .sort((a, b) => b[1] - a[1])
          .map(([code, n]) => `  ${code}: ${n}`)
          .join('\n'),
    );
    expect(report.failures).toEqual([]);
    expect(report.frames).toBeGreaterThanOrEqual(FRAMES);
    // Every path was exercised: valid frames, body errors, and each kind of header refusal.
    expect(report.decoded).toBeGreaterThan(FRAMES / 100);
    for (const code of [
      'RAGWIRE_ERR_BAD_FRAME',
      'RAGWIRE_ERR_FRAME_TOO_LARGE',
      'RAGWIRE_ERR_UNSUPPORTED_VERSION',
      'RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE',
      'RAGWIRE_ERR_LIMIT',
      'RAGWIRE_ERR_INVALID_FILTER',
    ]) {
      expect(report.byCode[code] ?? 0, code).toBeGreaterThan(0);
    }
  });
});
