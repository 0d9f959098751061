// The messages of one read of a collection's log on their way into the store (log-applier.ts reads
// them): consecutive writes of the buckets this member applies are grouped into one store write (bounded
// in messages and bytes), store writes run concurrently up to a window of messages (lmdb-js commits them
// together, in order), and the feed's position advances as each one and every earlier one is done.
import { isRagwireError } from '@ragwire/protocol';
import type { ApplyTarget, SequencedWrite } from './apply-target';

export interface ApplyLimits {
  /** Log messages being applied concurrently. */
  window: number;
  /** Messages and bytes of one store write (messages 1: each message alone). */
  group: { messages: number; bytes: number };
}

export class ApplyQueue {
  /** The first failure of the store (not a refusal): the read stops and restarts from the store's position. */
  failure: unknown;
  // Each entry resolves true once its messages and every earlier one were applied (or passed over).
  readonly #inFlight: { done: Promise<boolean>; messages: number }[] = [];
  #inFlightMessages = 0;
  // Messages read but not yet handed to the store: the writes to apply, and the last sequence among
  // them and the messages passed over between them.
  #group: SequencedWrite[] = [];
  #groupBytes = 0;
  #groupMessages = 0;
  #groupLast = 0;
  #soon: NodeJS.Immediate | undefined;

  constructor(
    readonly target: ApplyTarget,
    readonly collection: string,
    readonly limits: ApplyLimits,
    /** Every message up to `seq` was applied or passed over. */
    readonly advance: (seq: number) => void,
    readonly onProblem: (event: { collection: string; seq: number; error: unknown }) => void,
  ) {}

  /**
   * Takes the next message of the log: its write, or undefined for one passed over. Resolves once the
   * store has room for more (the window).
   */
  async add(seq: number, bytes: number, write: SequencedWrite['write'] | undefined): Promise<void> {
    if (write !== undefined && write.type === 'delete' && write.ids === undefined) {
      // A delete by filter or of everything applies to the documents held at its position: alone, after every write before it.
      this.flush();
      await this.#inFlight.at(-1)?.done;
      this.#settle(seq, 1, this.#applyOne(seq, write));
    } else {
      if (write !== undefined) this.#group.push({ seq, write });
      this.#groupMessages++;
      this.#groupLast = seq;
      this.#groupBytes += bytes;
      const { messages, bytes: maxBytes } = this.limits.group;
      if (this.#group.length >= messages || this.#groupBytes >= maxBytes) this.flush();
      // What was read goes to the store once the reader waits for more messages (or for the store).
      else
        this.#soon ??= setImmediate(() => {
          this.#soon = undefined;
          this.flush();
        });
    }
    if (this.#inFlightMessages < this.limits.window) return;
    // Wait for the oldest store writes until at most half the window is in flight.
    let waited: Promise<boolean> | undefined;
    while (this.#inFlight.length > 0 && this.#inFlightMessages > this.limits.window / 2) {
      const oldest = this.#inFlight.shift()!;
      this.#inFlightMessages -= oldest.messages;
      waited = oldest.done;
    }
    await waited;
  }

  /** Hands the messages read to the store as one write (or passes them over). */
  flush(): void {
    if (this.#groupMessages === 0 || this.failure !== undefined) return;
    const writes = this.#group;
    const last = this.#groupLast;
    const messages = this.#groupMessages;
    this.#group = [];
    this.#groupBytes = 0;
    this.#groupMessages = 0;
    if (writes.length === 0) this.#settle(last, messages, Promise.resolve(true));
    else if (writes.length === 1) this.#settle(last, messages, this.#applyOne(writes[0]!.seq, writes[0]!.write));
    else {
      const done = this.target.applyGroup(this.collection, writes).then(
        (refusals) => {
          for (const r of refusals) this.onProblem({ collection: this.collection, ...r });
          return true;
        },
        (error: unknown) => this.#refused(last, error),
      );
      this.#settle(last, messages, done);
    }
  }

  /** Hands over what was read and waits until the store applied it all. */
  async settle(): Promise<void> {
    this.flush();
    await this.#inFlight.at(-1)?.done;
    this.#inFlight.length = 0;
    this.#inFlightMessages = 0;
  }

  /** Waits for the store writes in flight (what was read and not handed over is not applied). */
  async drain(): Promise<void> {
    clearImmediate(this.#soon);
    await Promise.all(this.#inFlight.map((e) => e.done));
  }

  #applyOne(seq: number, write: SequencedWrite['write']): Promise<boolean> {
    return this.target.apply(this.collection, seq, write).then(
      () => true,
      (error: unknown) => this.#refused(seq, error),
    );
  }

  #settle(seq: number, messages: number, done: Promise<boolean>): void {
    const previous = this.#inFlight.at(-1)?.done ?? Promise.resolve(true);
    const chained = Promise.all([previous, done]).then(([before, ok]) => before && ok && (this.advance(seq), true));
    this.#inFlight.push({ done: chained, messages });
    this.#inFlightMessages += messages;
  }

  /** A refusal by the store (its 4xx errors) consumed the position, the same on every replica: said, and passed. */
  #refused(seq: number, error: unknown): boolean {
    if (isRagwireError(error) && error.status < 500) {
      this.onProblem({ collection: this.collection, seq, error });
      return true;
    }
    this.failure ??= error;
    return false;
  }
}
