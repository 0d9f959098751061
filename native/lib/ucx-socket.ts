// A UCX connection as a byte-stream Duplex shaped like net.Socket, so the frame code that runs
// over tcp:// (decoder, pipelining, backpressure, connection limits) runs over ucx:// unchanged
// (docs/protocol.md §2.3). Bytes travel as UCP active messages; the control socket that carried
// the handshake stays open and only tells when the peer is gone.
import { Duplex } from 'node:stream';
import type net from 'node:net';
import type { NativeConnectionState } from './native-tcp';
import { UcxEvent, ucxWorker, type UcxEndpoint, type UcxServing, type UcxWorker } from './ucx-worker';

/** Bytes a write may leave in the progress thread's queue before its callback waits for them. */
const SEND_ALLOWANCE = 256 * 1024;
/** How long a socket waits for data still in flight after its peer's control socket closed. */
const PEER_GONE_GRACE_MS = 25;

export class UcxSocket extends Duplex implements UcxEndpoint {
  readonly worker: UcxWorker;
  /** This side's connection id (the peer puts it in every message). */
  readonly id: number;
  /** Bytes received, as net.Socket's bytesRead. */
  bytesRead = 0;
  /** Bytes handed to UCX or queued for it from JavaScript. */
  #written = 0;
  /** The progress thread's answered bytes when last asked (kept once the socket is gone). */
  #answered = 0;
  readonly #served: boolean;
  private control: net.Socket | undefined;
  private connected = false;
  private heldAck = 0;
  private drainCallback: ((error?: Error | null) => void) | undefined;
  private waiting: (() => void)[] = [];

  /**
   * A socket not yet connected: `attach` connects it once the handshake is done. With `serving` (a
   * shard server's side), the progress thread answers the QUERY frames it can once the server
   * marks the connection ready (setNativeState).
   */
  constructor(options: { allowHalfOpen: boolean; serving?: UcxServing }) {
    super({ allowHalfOpen: options.allowHalfOpen, readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
    this.worker = ucxWorker();
    this.id = this.worker.register(this, options.serving);
    this.#served = options.serving !== undefined;
  }

  /** Bytes sent, as net.Socket's bytesWritten: JavaScript's and those the progress thread answered itself. */
  get bytesWritten(): number {
    if (this.#served && !this.destroyed) this.#answered = this.worker.addon.ucxAnsweredBytes(this.id);
    return this.#written + this.#answered;
  }

  /** A served socket: what the server settled for the connection; it applies from the next whole frame on. */
  setNativeState(state: NativeConnectionState): void {
    if (this.#served && !this.destroyed) this.worker.addon.ucxSetState(this.id, state);
  }

  /** Connects to the peer's worker (its address and id came over `control`) and emits 'connect'. */
  attach(control: net.Socket, remote: { address: Uint8Array; id: number; windowBytes: number }): void {
    this.control = control;
    this.worker.addon.ucxConnect(this.id, remote.address, remote.id, remote.windowBytes);
    this.connected = true;
    control.on('data', () => this.destroy(new Error('the peer wrote to the UCX control socket after the handshake')));
    control.on('error', () => undefined);
    control.once('close', () => {
      if (this.destroyed) return;
      // Messages sent before the peer went may still be on their way: let them arrive first.
      setTimeout(() => {
        if (!this.destroyed) this.worker.addon.ucxPeerGone(this.id, 'the peer closed its UCX control connection');
      }, PEER_GONE_GRACE_MS).unref();
    });
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w();
    this.emit('connect');
  }

  /** net.Socket compatibility: UCX has no Nagle to turn off. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  onUcxEvent(kind: UcxEvent, payload: Buffer | string | undefined): void {
    switch (kind) {
      case UcxEvent.Data: {
        const chunk = payload as Buffer;
        this.bytesRead += chunk.length;
        // Credit goes back only for bytes the reader took: a paused reader stops the peer.
        if (this.push(chunk)) this.worker.addon.ucxAck(this.id, chunk.length);
        else this.heldAck += chunk.length;
        return;
      }
      case UcxEvent.End:
        this.push(null);
        return;
      case UcxEvent.Drain: {
        const cb = this.drainCallback;
        this.drainCallback = undefined;
        cb?.();
        return;
      }
      case UcxEvent.Closed:
        this.destroy(new Error(payload as string));
        return;
      case UcxEvent.Barrier:
        throw new Error('a worker barrier addressed to a connection');
      default: {
        const never: never = kind;
        throw new Error(`unknown UCX event ${String(never)}`);
      }
    }
  }

  override _read(): void {
    if (this.heldAck > 0 && !this.destroyed) {
      this.worker.addon.ucxAck(this.id, this.heldAck);
      this.heldAck = 0;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sendChunks([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.sendChunks(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.connected) return void this.waiting.push(() => this._final(callback));
    this.worker.addon.ucxFinish(this.id);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.worker.unregister(this.id, error === null && this.readableEnded && this.writableFinished);
    this.control?.destroy();
    const cb = this.drainCallback;
    this.drainCallback = undefined;
    cb?.(error ?? new Error('socket destroyed'));
    callback(error);
  }

  private sendChunks(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    if (!this.connected) return void this.waiting.push(() => this.sendChunks(chunks, callback));
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    this.#written += bytes;
    const queued = this.worker.addon.ucxSend(this.id, chunks, SEND_ALLOWANCE);
    // Small writes complete at once; past the allowance the writer waits for UCX to take them,
    // so writableLength (what connection limits watch) counts what the peer has not taken.
    if (queued <= SEND_ALLOWANCE) callback();
    else this.drainCallback = callback;
  }
}
