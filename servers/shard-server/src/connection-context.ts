// What every connection of one shard server shares (client-connection.ts): the store, auth, limits,
// metrics and logging, and the server's state (draining, fleet, tracing).
import type { Logger } from 'pino';
import type { Extension, FrameBudget, ProtocolLimits } from '@ragwire/protocol';
import type { Store } from '@ragwire/store';
import type { Tracing } from '@ragwire/tracing';
import type { TokenTable } from './auth';
import type { ConnectionLimits } from './connection-limits';
import type { FleetMember } from './fleet-member';
import type { ShardMetrics } from './metrics';

/** What every connection of one server shares. */
export interface ConnectionContext {
  store: Store;
  /** Undefined: no tokens configured (loopback only), every connection has full access. */
  tokens: TokenTable | undefined;
  limits: ProtocolLimits;
  metrics: ShardMetrics;
  log: Logger;
  maxInFlight: number;
  connectionLimits: ConnectionLimits;
  /** Memory for partial frames, shared by every connection of the server. */
  frameBudget: FrameBudget;
  serverName: string;
  /** True once the server is shutting down: new requests get RAGWIRE_ERR_CLOSED. */
  draining(): boolean;
  /** Fleet membership (--nats): writes come from the log, queries may wait for a log position. */
  fleet: FleetMember | undefined;
  /** Tracing (off: undefined); with it on, connections may turn the `trace` extension on (docs/protocol.md §5.12). */
  tracing: Tracing | undefined;
  /** The extensions this server serves. */
  extensions: ReadonlySet<Extension>;
}
