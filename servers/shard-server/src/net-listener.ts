// tcp:// and unix:// listeners: node:net servers whose sockets are the connections.
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { ListenAddress } from './config';
import type { FrameSocket, Listener } from './listener';

/** Removes a Unix socket file left by a process that died, refusing one a live server still accepts on. */
async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`unix socket ${path} is in use by a running server`);
  unlinkSync(path);
}

/** Binds `server` to a tcp or unix address; resolves to its URL, port resolved. */
export function bind(server: net.Server, address: ListenAddress): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      if (address.kind === 'unix') return resolve(`unix://${address.path}`);
      const a = server.address() as net.AddressInfo;
      resolve(`${address.kind}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    };
    if (address.kind === 'unix') server.listen(address.path, done);
    else server.listen(address.port, address.host, done);
  });
}

export async function listenNet(address: Extract<ListenAddress, { kind: 'tcp' | 'unix' }>, onConnection: (socket: FrameSocket) => void): Promise<Listener> {
  if (address.kind === 'unix') await clearStaleSocket(address.path);
  const server = net.createServer((socket) => onConnection(socket));
  const url = await bind(server, address);
  return {
    address: url,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          if (address.kind === 'unix' && existsSync(address.path)) unlinkSync(address.path);
          resolve();
        }),
      ),
  };
}
