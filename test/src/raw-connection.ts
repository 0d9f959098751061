// A bare protocol connection for tests that send hand-made (and broken) frames.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { connectUcx } from '@ragwire/native';
import { FrameDecoder, encodeFrame, type Message, type Response } from '@ragwire/protocol';

export class RawConnection {
  readonly socket: Duplex;
  private readonly decoder = new FrameDecoder();
  private readonly replies = new Map<number, Response[]>();
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.decoder.push(chunk)) {
        if (!e.ok) throw e.error;
        const list = this.replies.get(e.requestId) ?? [];
        list.push(e.message as Response);
        this.replies.set(e.requestId, list);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(url: string): Promise<RawConnection> {
    const u = new URL(url);
    const socket: Duplex = u.protocol === 'ucx:' ? connectUcx(u.hostname, Number(u.port)) : net.connect(Number(u.port), u.hostname);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawConnection(socket);
  }

  send(message: Message, requestId: number): void {
    this.socket.write(encodeFrame(message, requestId));
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next reply with `requestId` (0: connection-level errors). */
  async reply(requestId: number, timeoutMs = 5000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = this.replies.get(requestId);
      if (list?.length) return list.shift()!;
      if (this.closed) throw new Error(`connection closed before a reply to ${requestId}`);
      if (Date.now() > deadline) throw new Error(`no reply to ${requestId} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Resolves when the server closed the connection. */
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** A hand-made frame: header fields as given, then `body` (docs/protocol.md §2). */
export function rawFrame(h: { length?: number; version?: number; type: number; flags?: number; requestId: number }, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, h.length ?? 8 + body.length, true);
  view.setUint8(4, h.version ?? 1);
  view.setUint8(5, h.type);
  view.setUint16(6, h.flags ?? 0, true);
  view.setUint32(8, h.requestId, true);
  out.set(body, 12);
  return out;
}
