// docs/protocol.md §5: requests answered by a store in this process (the embedded:// transport).
// The mapping itself lives in @ragwire/store (answerRequest), loaded lazily: the store is an optional peer.
import { PROTOCOL_VERSION, type Request, type Response } from '@ragwire/protocol';

/** The part of @ragwire/store the embedded transport uses (structural: the store is an optional peer). */
export interface EmbeddedStore {
  close(): Promise<void>;
}

export interface EmbeddedStoreModule {
  openStore(options: { path: string }): Promise<EmbeddedStore>;
  answerRequest(store: EmbeddedStore, request: Exclude<Request, { type: 'hello' | 'extensions' }>): Promise<Response>;
}

/** Runs one request against `store` and builds its success reply; throws the store's typed errors. */
export async function dispatchToStore(mod: EmbeddedStoreModule, store: EmbeddedStore, request: Request, serverName: string): Promise<Response> {
  if (request.type === 'hello') return { type: 'hello_ok', version: PROTOCOL_VERSION, server: serverName };
  // In-process there is no next hop to carry a trace context to: no extension is turned on.
  if (request.type === 'extensions') return { type: 'extensions_ok', names: [] };
  return mod.answerRequest(store, request);
}
