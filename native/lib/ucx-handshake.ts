// docs/protocol.md §2.3: a ucx:// connection starts on a TCP control socket. Each side sends
//   magic "RWUCX\x01\0\0" (8) | u32 address length | u32 window bytes | u32 connection id | address
// (the address from ucp_worker_get_address), then each creates a UCP endpoint to the other's
// worker. Because the endpoint is made from the worker address, UCX may pick shared memory
// between processes of one host (and RDMA verbs between hosts), as UCX_TLS allows.
import net from 'node:net';
import { ConnectionTimeoutError, BadFrameError, ShardUnavailableError } from '@ragwire/protocol';
import { UcxSocket } from './ucx-socket';
import type { UcxServing } from './ucx-worker';

const MAGIC = Buffer.from('RWUCX\x01\0\0', 'latin1');
const PREFIX_BYTES = MAGIC.length + 12;
/** Larger than any UCX worker address (a few hundred bytes to a few KiB). */
const MAX_ADDRESS_BYTES = 64 * 1024;

function hello(socket: UcxSocket): Buffer {
  const address = socket.worker.address;
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(address.length, 8);
  prefix.writeUInt32LE(socket.worker.windowBytes, 12);
  prefix.writeUInt32LE(socket.id, 16);
  return Buffer.concat([prefix, address]);
}

interface PeerHello {
  address: Uint8Array;
  id: number;
  windowBytes: number;
}

/** Reads the peer's hello from `control`, refusing anything else, within `timeoutMs`. */
function readHello(control: net.Socket, timeoutMs: number, onTimeout: () => Error): Promise<PeerHello> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => done(onTimeout()), timeoutMs);
    const done = (error: Error | undefined, value?: PeerHello): void => {
      clearTimeout(timer);
      control.off('data', onData);
      control.off('close', onClose);
      control.off('error', onError);
      if (error) {
        control.destroy();
        reject(error);
      } else resolve(value!);
    };
    const onError = (error: Error): void => done(new ShardUnavailableError(`UCX handshake failed: ${error.message}`, { cause: error }));
    const onClose = (): void => done(new ShardUnavailableError('the peer closed the UCX control connection during the handshake'));
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < PREFIX_BYTES) return;
      if (!buffered.subarray(0, MAGIC.length).equals(MAGIC)) return done(new BadFrameError('not a ragwire UCX handshake (bad magic)'));
      const length = buffered.readUInt32LE(8);
      if (length === 0 || length > MAX_ADDRESS_BYTES) return done(new BadFrameError(`UCX handshake: worker address of ${length} bytes`));
      if (buffered.length < PREFIX_BYTES + length) return;
      if (buffered.length > PREFIX_BYTES + length) return done(new BadFrameError('UCX handshake: bytes after the worker address'));
      done(undefined, {
        address: buffered.subarray(PREFIX_BYTES),
        windowBytes: buffered.readUInt32LE(12),
        id: buffered.readUInt32LE(16),
      });
    };
    control.on('data', onData);
    control.once('close', onClose);
    control.on('error', onError);
  });
}

/**
 * Dials `host:port` and returns at once a socket that emits 'connect' once the handshake is done,
 * or 'error' and 'close' (ShardUnavailableError) when it cannot be.
 */
export function connectUcx(host: string, port: number, timeoutMs = 2000): UcxSocket {
  const socket = new UcxSocket({ allowHalfOpen: false });
  const control = net.connect({ host, port });
  control.setNoDelay(true);
  const fail = (error: Error): void => {
    control.destroy();
    socket.destroy(error);
  };
  const timer = setTimeout(() => fail(new ShardUnavailableError(`no UCX connection to ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
  control.once('error', (error) => fail(new ShardUnavailableError(`cannot reach ${host}:${port}: ${error.message}`, { cause: error })));
  control.once('connect', () => {
    control.removeAllListeners('error');
    control.write(hello(socket));
    readHello(control, timeoutMs, () => new ShardUnavailableError(`no UCX handshake from ${host}:${port} within ${timeoutMs} ms`)).then(
      (peer) => {
        clearTimeout(timer);
        if (!socket.destroyed) socket.attach(control, peer);
      },
      (error: Error) => {
        clearTimeout(timer);
        fail(error);
      },
    );
  });
  return socket;
}

/**
 * The server side of the handshake on an accepted control socket. With `serving`, the connection's
 * QUERY frames are answered natively once the server marks it ready (UcxSocket.setNativeState).
 */
export async function acceptUcx(control: net.Socket, timeoutMs: number, serving?: UcxServing): Promise<UcxSocket> {
  control.setNoDelay(true);
  const peer = await readHello(control, timeoutMs, () => new ConnectionTimeoutError(`no UCX handshake within ${timeoutMs} ms`));
  const socket = new UcxSocket({ allowHalfOpen: true, ...(serving ? { serving } : {}) });
  control.write(hello(socket));
  socket.attach(control, peer);
  return socket;
}
