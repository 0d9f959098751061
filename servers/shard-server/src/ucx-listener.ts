// ucx:// listener (docs/protocol.md §2.3): a TCP control port where peers exchange UCX worker
// addresses; each handshake done is a UcxSocket, handed to the server like a TCP socket. With
// `answering`, each is a served connection: the UCX progress thread answers the plain queries it
// can itself (docs/architecture.md, "The native fast path").
import net from 'node:net';
import { acceptUcx, transports, ucxQuiesce, ucxStats, type UcxServing } from '@ragwire/native';
import type { ListenAddress } from './config';
import type { FrameSocket, Listener, ListenOptions } from './listener';
import { bind } from './net-listener';

export async function listenUcx(
  address: Extract<ListenAddress, { kind: 'ucx' }>,
  onConnection: (socket: FrameSocket) => void,
  options: ListenOptions,
): Promise<Listener> {
  const ucx = transports().ucx;
  if (!ucx.available) throw new Error(`cannot listen on ucx://: ${ucx.error ?? 'UCX is not available'}`);
  let pending = 0;
  let closed = false;
  const serving: UcxServing | undefined = options.answering && {
    answering: options.answering,
    maxFrameBytes: options.maxFrameBytes,
    replyHighWaterBytes: options.replyHighWaterBytes,
  };
  const server = net.createServer((control) => {
    // A peer that opens control connections and never finishes them holds at most this many.
    if (pending >= options.maxPendingHandshakes) {
      control.destroy();
      return;
    }
    pending++;
    acceptUcx(control, options.handshakeTimeoutMs, serving).then(
      (socket) => {
        pending--;
        if (closed) socket.destroy();
        else onConnection(socket);
      },
      (error: Error) => {
        pending--;
        options.onHandshakeError(error);
      },
    );
  });
  const url = await bind(server, address);
  return {
    address: url,
    ...(serving
      ? {
          // The process's one worker: its counters cover every ucx:// listener of the process.
          nativeStats: () => {
            const { answerTimes, ...stats } = ucxStats();
            return { transport: 'ucx', stats, answerTimes };
          },
          quiesce: ucxQuiesce,
        }
      : {}),
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        server.close(() => resolve());
      }),
  };
}
