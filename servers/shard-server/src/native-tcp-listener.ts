// native+tcp:// listener (docs/protocol.md §2.3): TCP accepted and read by the native data plane's
// epoll thread; each connection is a NativeTcpSocket, handed to the server like a net.Socket.
// Clients dial it as tcp://: the wire is the same, so the address it announces is tcp://.
import { listenNativeTcp } from '@ragwire/native';
import type { ListenAddress } from './config';
import type { FrameSocket, Listener, ListenOptions } from './listener';

export function listenNative(
  address: Extract<ListenAddress, { kind: 'native-tcp' }>,
  onConnection: (socket: FrameSocket) => void,
  options: ListenOptions,
): Promise<Listener> {
  const listener = listenNativeTcp(
    address.host,
    address.port,
    { maxFrameBytes: options.maxFrameBytes, maxUnsentReplyBytes: options.maxUnsentReplyBytes, replyHighWaterBytes: options.replyHighWaterBytes },
    onConnection,
    { loops: options.nativeLoops, ...(options.answering ? { answering: options.answering } : {}) },
  );
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return Promise.resolve({
    address: `tcp://${host}:${listener.port}`,
    close: () => listener.close(),
    nativeStats: () => {
      const { answerTimes, ...stats } = listener.stats();
      return { transport: 'tcp', stats, answerTimes };
    },
    quiesce: () => listener.quiesce(),
  });
}
