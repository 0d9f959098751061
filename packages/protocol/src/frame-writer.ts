// Frames out to a stream socket (docs/protocol.md §2): every frame written in one tick leaves in
// one gathered write. The client's transports and the shard server's connections both write this way.

/** The part of a Node stream (net.Socket, any Duplex) the writer uses. */
export interface CorkableStream {
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array): boolean;
}

/**
 * Writes frames to one stream. The first write of a tick corks the stream and uncorks it on the next
 * tick (process.nextTick), so the frames of one tick go out in one writev, not one syscall each.
 */
export class FrameWriter {
  private corked = false;

  constructor(private readonly stream: CorkableStream) {}

  /** Writes one frame, given as its parts (encodeFrameParts). */
  write(parts: readonly Uint8Array[]): void {
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(this.uncork);
    }
    for (let i = 0; i < parts.length; i++) this.stream.write(parts[i]!);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.stream.uncork();
  };
}
