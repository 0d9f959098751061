// Opens the listener an address names: the one switch over the listen schemes (docs/protocol.md §2).
import type { ListenAddress } from './config';
import type { FrameSocket, Listener, ListenOptions } from './listener';
import { listenNative } from './native-tcp-listener';
import { listenNet } from './net-listener';
import { listenUcx } from './ucx-listener';

/** Opens the listener for `address`; `onConnection` gets every connected stream. */
export function listen(address: ListenAddress, onConnection: (socket: FrameSocket) => void, options: ListenOptions): Promise<Listener> {
  switch (address.kind) {
    case 'tcp':
    case 'unix':
      return listenNet(address, onConnection);
    case 'native-tcp':
      return listenNative(address, onConnection, options);
    case 'ucx':
      return listenUcx(address, onConnection, options);
    default: {
      const never: never = address;
      throw new Error(`no listener for ${JSON.stringify(never)}`);
    }
  }
}
