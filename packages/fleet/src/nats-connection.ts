// One way to reach NATS for every part of a fleet, with failures as RAGWIRE_ERR_LOG_UNAVAILABLE.
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { InvalidArgumentError } from '@ragwire/protocol';
import { logError } from './nats-errors';

export interface NatsOptions {
  /** NATS URL(s): `nats://127.0.0.1:4222`, or every node of a cluster. */
  servers?: string | string[];
  /** An open connection to use instead (the caller keeps ownership). */
  connection?: NatsConnection;
  /** Subject and bucket prefix of every fleet name. Default 'ragwire'. */
  prefix?: string;
  /** Connecting fails after this long. Default 5000 ms. */
  connectTimeoutMs?: number; // ms
}

/** Connects with reconnection forever (a fleet outlives a NATS node's restart); refuses fast when no server answers at start. */
export async function connectNats(options: NatsOptions): Promise<NatsConnection> {
  const servers = options.servers;
  if (servers === undefined || (Array.isArray(servers) && servers.length === 0)) throw new InvalidArgumentError('give servers (a NATS URL) or connection');
  try {
    return await connect({
      servers,
      timeout: options.connectTimeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      name: 'ragwire',
    });
  } catch (error) {
    throw logError(`connecting to NATS at ${String(servers)}`, error);
  }
}

/** The KV bucket `name` when it exists, else undefined (Kvm.open alone does not check). */
export async function openExisting(nc: NatsConnection, name: string): Promise<KV | undefined> {
  try {
    const kv = await new Kvm(nc).open(name);
    await kv.status();
    return kv;
  } catch (error) {
    if (/not found/i.test(String(error))) return undefined;
    throw error;
  }
}
