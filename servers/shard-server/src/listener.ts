// The shard server's side of a transport (docs/protocol.md §2): a listener hands the server
// connected byte streams, whatever carries them, so auth, limits, backpressure and metrics
// (client-connection.ts) are one code for tcp://, native+tcp://, unix:// and ucx://.
import type { Duplex } from 'node:stream';
import type { AnswerTimes, NativeAnswering, NativeConnectionState } from '@ragwire/native';

/** What ClientConnection needs of a connection: net.Socket's shape (a UcxSocket has it too). */
export interface FrameSocket extends Duplex {
  /** Bytes written so far (progress for the idle deadline). */
  readonly bytesWritten: number;
  setNoDelay(noDelay?: boolean): this;
  /** A socket of the native data plane (native+tcp://, a served ucx://): what the server settled for the connection, for the plane to act on. */
  setNativeState?(state: NativeConnectionState): void;
}

export interface Listener {
  /** The bound address, port resolved: `tcp://127.0.0.1:40123`, `unix:///run/r.sock`, `ucx://127.0.0.1:40124`. */
  readonly address: string;
  /** Stops accepting; resolves once the listener is closed (open connections are the server's). */
  close(): Promise<void>;
  /** A listener of the native data plane: its transport and counters (frames walked, queries answered, ...), for /metrics. */
  nativeStats?(): NativePlaneStats;
  /** A listener whose native loop answers queries: resolves once every frame it read was answered there or handed on. */
  quiesce?(): Promise<void>;
}

export interface NativePlaneStats {
  transport: 'tcp' | 'ucx';
  stats: Record<string, number>;
  /** The queries it answered, by time taken. */
  answerTimes: AnswerTimes;
}

export interface ListenOptions {
  /** A connection that has not completed its transport handshake within this time is dropped (ms). */
  handshakeTimeoutMs: number;
  /** Handshakes in progress at once, beyond which new ones are dropped. */
  maxPendingHandshakes: number;
  /** Called for a handshake that failed or timed out. */
  onHandshakeError(error: Error): void;
  /** The protocol's frame limit (limits.maxFrameBytes), for listeners that walk frame headers natively. */
  maxFrameBytes: number;
  /** connectionLimits.maxUnsentReplyBytes, for listeners that queue replies natively. */
  maxUnsentReplyBytes: number;
  /** connectionLimits.replyHighWaterBytes, for listeners that answer requests natively. */
  replyHighWaterBytes: number;
  /** Epoll threads of a native+tcp:// listener. */
  nativeLoops: number;
  /** For listeners of the native data plane (native+tcp://, ucx://): the store's published collections, to answer plain queries from. */
  answering?: NativeAnswering;
}
