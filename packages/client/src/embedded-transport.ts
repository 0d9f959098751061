// embedded:// : a store opened in this process; requests are calls, not frames.
import path from 'node:path';
import { hasCode, InvalidArgumentError, ShardUnavailableError, type Request } from '@ragwire/protocol';
import { dispatchToStore, type EmbeddedStore, type EmbeddedStoreModule } from './store-dispatch';
import { registerTransport, type Transport, type TransportHandlers } from './transport';

interface OpenStore {
  store: Promise<EmbeddedStore>;
  users: number;
}

let storeModule: EmbeddedStoreModule | undefined;

/** One store per directory per process (a store directory has one owner), shared by every embedded transport. */
const stores = new Map<string, OpenStore>();

async function loadStore(dir: string): Promise<EmbeddedStore> {
  try {
    // A variable specifier keeps bundlers from resolving the optional peer at build time.
    const specifier = '@ragwire/store';
    storeModule ??= (await import(specifier)) as EmbeddedStoreModule;
  } catch (error) {
    throw new ShardUnavailableError(`embedded:// needs the optional peer dependency @ragwire/store: ${(error as Error).message}`, { cause: error });
  }
  return storeModule.openStore({ path: dir });
}

function acquire(dir: string): Promise<EmbeddedStore> {
  let entry = stores.get(dir);
  if (entry === undefined) {
    const store = loadStore(dir);
    entry = { store, users: 0 };
    stores.set(dir, entry);
    store.catch(() => {
      if (stores.get(dir) === entry) stores.delete(dir);
    });
  }
  entry.users++;
  return entry.store;
}

async function release(dir: string): Promise<void> {
  const entry = stores.get(dir);
  if (entry === undefined) return;
  if (--entry.users > 0) return;
  stores.delete(dir);
  const store = await entry.store.catch(() => undefined);
  await store?.close();
}

/** The embedded transport: same requests and replies as a socket, no socket and no encoding. */
export class EmbeddedTransport implements Transport {
  readonly url: string;
  readonly dir: string;
  private store: EmbeddedStore | undefined;
  private handlers: TransportHandlers | undefined;
  private state: 'new' | 'open' | 'closed' = 'new';

  constructor(url: string, dir: string) {
    this.url = url;
    this.dir = dir;
  }

  async connect(handlers: TransportHandlers): Promise<void> {
    if (this.state !== 'new') throw new InvalidArgumentError(`${this.url}: connect() called twice`);
    this.handlers = handlers;
    try {
      this.store = await acquire(this.dir);
    } catch (error) {
      this.state = 'closed';
      if (hasCode(error, 'RAGWIRE_ERR_SHARD_UNAVAILABLE')) throw error;
      throw new ShardUnavailableError(`${this.url}: ${(error as Error).message}`, { cause: error });
    }
    this.state = 'open';
  }

  send(requestId: number, request: Request): void {
    if (this.state !== 'open') throw new ShardUnavailableError(`${this.url}: not connected`);
    const handlers = this.handlers!;
    dispatchToStore(storeModule!, this.store!, request, 'ragwire-embedded').then(
      (reply) => {
        handlers.reply(requestId, reply);
      },
      (error: Error) => {
        handlers.reply(requestId, error);
      },
    );
  }

  /** Releases the store; the last embedded transport on a directory closes it (snapshots, then closes LMDB). */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    if (!wasOpen) return;
    this.handlers?.closed();
    await release(this.dir);
  }
}

/** Closes every store embedded transports opened in this process and still hold (tests, shutdown hooks). */
export async function closeEmbeddedStores(): Promise<void> {
  const open = [...stores.values()];
  stores.clear();
  await Promise.all(open.map(async (e) => (await e.store.catch(() => undefined))?.close()));
}

registerTransport('embedded', (_url, raw) => {
  // embedded:///abs/dir or embedded://./relative/dir (relative to the working directory).
  const rest = decodeURIComponent(raw.slice('embedded://'.length).split('?')[0]!);
  if (rest === '' || rest === '/') throw new InvalidArgumentError(`embedded URL needs a directory (embedded:///data/ragwire), got ${JSON.stringify(raw)}`);
  return new EmbeddedTransport(raw, path.resolve(rest));
});
