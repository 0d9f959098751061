// ucx:// (docs/protocol.md §2.3): the same frames as tcp://, carried by UCX (shared memory on one
// host, RDMA verbs between hosts where the NICs have them, else tcp). The UCX code lives in
// @ragwire/native, an optional peer loaded on first use; without it ucx:// fails to connect
// with ShardUnavailableError naming what is missing.
import { InvalidArgumentError, ShardUnavailableError, type Request } from '@ragwire/protocol';
import { SocketTransport, type StreamSocket } from './socket-transport';
import { registerTransport, type Transport, type TransportHandlers, type TransportOptions } from './transport';

interface UcxModule {
  connectUcx(host: string, port: number, timeoutMs?: number): StreamSocket;
  transports(): { ucx: { available: boolean; error?: string } };
}

let loading: Promise<UcxModule> | undefined;

function loadUcx(): Promise<UcxModule> {
  // A variable specifier keeps bundlers from resolving the optional peer at build time.
  const specifier = '@ragwire/native';
  return (loading ??= (import(specifier) as Promise<UcxModule>).then((m) => {
    const ucx = m.transports().ucx;
    if (!ucx.available) throw new ShardUnavailableError(`ucx:// is not available here: ${ucx.error ?? 'UCX did not initialise'}`);
    return m;
  }));
}

/** A SocketTransport over a UcxSocket, made once @ragwire/native is loaded. */
class UcxTransport implements Transport {
  readonly url: string;
  private inner: SocketTransport | undefined;
  private closed = false;

  constructor(
    url: string,
    private readonly host: string,
    private readonly port: number,
    private readonly options: TransportOptions,
  ) {
    this.url = url;
  }

  async connect(handlers: TransportHandlers): Promise<void> {
    if (this.inner) throw new InvalidArgumentError(`${this.url}: connect() called twice`);
    let ucx: UcxModule;
    try {
      ucx = await loadUcx();
    } catch (error) {
      loading = undefined;
      if (error instanceof ShardUnavailableError) throw error;
      throw new ShardUnavailableError(`ucx:// needs the optional peer dependency @ragwire/native: ${(error as Error).message}`, { cause: error });
    }
    if (this.closed) throw new ShardUnavailableError(`${this.url}: closed while connecting`);
    const timeout = this.options.connectTimeoutMs ?? 2000;
    this.inner = new SocketTransport(this.url, () => ucx.connectUcx(this.host, this.port, timeout), this.options);
    return this.inner.connect(handlers);
  }

  send(requestId: number, request: Request): void {
    if (this.inner === undefined) throw new ShardUnavailableError(`${this.url}: not connected`);
    this.inner.send(requestId, request);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inner?.close();
  }
}

registerTransport('ucx', (url, raw, options) => {
  const port = Number(url.port);
  if (!url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`ucx URL needs a host and a port, got ${JSON.stringify(raw)}`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return new UcxTransport(raw, host, port, options);
});
