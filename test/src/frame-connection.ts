// A protocol connection that keeps each reply frame's bytes as sent, by request id: for tests that
// compare two listeners' answers byte for byte.
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { connectUcx } from '@ragwire/native';
import { FrameDecoder, encodeFrame, type ProtocolLimits, type Request, type Response } from '@ragwire/protocol';

export class FrameConnection {
  readonly #socket: Duplex;
  #buffered = Buffer.alloc(0);
  readonly #waiting = new Map<number, (frame: Buffer) => void>();
  #nextId = 1;

  constructor(url: string) {
    const u = new URL(url);
    this.#socket = u.protocol === 'ucx:' ? connectUcx(u.hostname, Number(u.port)) : connect(Number(u.port), u.hostname);
    this.#socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 4) {
        const bytes = this.#buffered.readUInt32LE(0) + 4;
        if (this.#buffered.length < bytes) break;
        const frame = this.#buffered.subarray(0, bytes);
        this.#buffered = this.#buffered.subarray(bytes);
        this.#waiting.get(frame.readUInt32LE(8))?.(Buffer.from(frame));
      }
    });
  }

  /**
   * The reply frame to `request`, as sent. `how.limits`: the encoder's (a test may encode past the
   * server's); `how.edit`: changes the encoded frame's bytes in place before it is sent.
   */
  ask(request: Request, how: { limits?: ProtocolLimits; edit?: (frame: Buffer) => void } = {}): Promise<Buffer> {
    const id = this.#nextId++;
    const frame = Buffer.from(encodeFrame(request, id, how.limits));
    how.edit?.(frame);
    return new Promise((resolve) => {
      this.#waiting.set(id, (reply) => (this.#waiting.delete(id), resolve(reply)));
      this.#socket.write(frame);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** The message of one whole reply frame. */
export function decodedReply(frame: Buffer): Response {
  const events = new FrameDecoder().push(frame);
  const e = events[0]!;
  if (!e.ok) throw e.error;
  return e.message as Response;
}
