/** The floor: a bare TCP echo server in its own process. Prints its port. */
import net from 'node:net';

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (chunk) => socket.write(chunk));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as net.AddressInfo).port, pid: process.pid }) + '\n');
});
process.once('SIGTERM', () => process.exit(0));
