/**
 * The floor: a bare echo server in its own process, over TCP and, where this build has UCX, over
 * ucx:// (the same handshake as a shard's UCX listener). Prints {port, ucxPort, pid}.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptUcx, transports } from '@ragwire/native';

const echo = (socket: Duplex & { setNoDelay(on: boolean): unknown }): void => {
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => socket.write(chunk));
};
const listen = (server: net.Server) => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)));

const port = await listen(net.createServer(echo));
const ucxPort = transports().ucx.available ? await listen(net.createServer((control) => void acceptUcx(control, 2000).then(echo, () => undefined))) : undefined;
process.stdout.write(JSON.stringify({ port, ucxPort, pid: process.pid }) + '\n');
process.once('SIGTERM', () => process.exit(0));
