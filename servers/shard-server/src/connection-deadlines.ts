// The connection deadlines the server's sweep enforces: HELLO in time, a started frame arriving above
// the bytes-per-second floor, and no idle connection past the idle timeout.
import { ConnectionTimeoutError, HEADER_BYTES, type RagwireError } from '@ragwire/protocol';
import type { ConnectionLimits } from './connection-limits';
import type { CloseReason } from './metrics';

/** What the sweep reads of one connection at `now`. */
export interface DeadlineView {
  authenticated: boolean;
  openedAt: number;
  /** When the frame now arriving started; undefined between frames. */
  partialSince: number | undefined;
  /** Reading is paused (the server, not the peer, holds the frame back). */
  paused: boolean;
  /** The arriving frame's declared size, when its header has come. */
  declaredFrameBytes: number | undefined;
  bufferedBytes: number;
  inFlight: number;
  lastProgressAt: number;
}

/** The deadline `view` has broken at `now`, with the error the peer is told; undefined when none. */
export function brokenDeadline(view: DeadlineView, limits: ConnectionLimits, now: number): { reason: CloseReason; error: RagwireError } | undefined {
  if (!view.authenticated && now - view.openedAt > limits.helloTimeoutMs) {
    return { reason: 'hello_timeout', error: new ConnectionTimeoutError(`no successful HELLO within ${limits.helloTimeoutMs} ms`) };
  }
  if (view.partialSince !== undefined && !view.paused) {
    const declared = view.declaredFrameBytes ?? HEADER_BYTES;
    const allowedMs = limits.frameTimeoutMs + (declared * 1000) / limits.minFrameBytesPerSecond;
    if (now - view.partialSince <= allowedMs) return undefined;
    const message = `a frame of ${declared} bytes did not arrive within ${Math.round(allowedMs)} ms (${view.bufferedBytes} bytes came)`;
    return { reason: 'frame_timeout', error: new ConnectionTimeoutError(message) };
  }
  if (view.inFlight === 0 && now - view.lastProgressAt > limits.idleTimeoutMs) {
    return { reason: 'idle_timeout', error: new ConnectionTimeoutError(`idle for ${limits.idleTimeoutMs} ms`) };
  }
  return undefined;
}
