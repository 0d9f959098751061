import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * API keys as tenants: who a key is, what it may reach (models and
 * collections) and how much it may spend (tokens per minute and per day). A
 * key is held only as its SHA-256: from the config (`auth.keys`, hashed at
 * start) or from `auth.keysFile` (hashes only, or plaintext keys hashed on
 * load), which SIGHUP reloads.
 */
export interface Tenant {
  name: string;
  /** Models (and retrieval aliases) this key may call; undefined: all. */
  models: ReadonlySet<string> | undefined;
  /** Collections this key may retrieve from (directly or through an alias); undefined: all. */
  collections: ReadonlySet<string> | undefined;
  tokensPerMinute: number;
  tokensPerDay: number;
  /** This key's own token for a collection's shard servers, by collection: the shards' scopes then hold for it too. */
  shardTokens: Readonly<Record<string, string>> | undefined;
  requestsPerSecond: number;
  burst: number;
}

/** `sha256:<hex>` of a key: what keys files hold. */
export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

const HASH = /^sha256:[0-9a-f]{64}$/;
const FIELDS = ['key', 'keyHash', 'name', 'models', 'collections', 'tokensPerMinute', 'tokensPerDay', 'shardTokens', 'requestsPerSecond', 'burst'];

/** A keys entry is malformed; `field` names it (`keys[2].keyHash`). */
export class KeysFileError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

function names(value: unknown, field: string): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) throw new KeysFileError(field, 'must be a list of names');
  return new Set(value as string[]);
}

function tokens(value: unknown, field: string): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string' && v.length > 0)) {
    throw new KeysFileError(field, 'must map collection names to shard tokens');
  }
  return { ...(value as Record<string, string>) };
}

function count(value: unknown, field: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new KeysFileError(field, `must be a number >= 0, got ${JSON.stringify(value)}`);
  return value;
}

/** One entry (of the config or a keys file, every field checked here) as [hash, tenant]. */
export function tenantEntry(raw: Readonly<Record<string, unknown>>, at: string, index: number): [string, Tenant] {
  for (const f of Object.keys(raw)) if (!FIELDS.includes(f)) throw new KeysFileError(`${at}.${f}`, 'unknown field');
  let hash: string;
  if (raw.keyHash !== undefined) {
    if (typeof raw.keyHash !== 'string' || !HASH.test(raw.keyHash))
      throw new KeysFileError(`${at}.keyHash`, 'must be sha256:<64 hex digits> (ragwire-proxy --hash-key <key> prints it)');
    hash = raw.keyHash;
  } else {
    if (typeof raw.key !== 'string' || raw.key.length === 0) throw new KeysFileError(`${at}.key`, 'must be a non-empty string (or give keyHash)');
    hash = hashKey(raw.key);
  }
  return [
    hash,
    {
      name: typeof raw.name === 'string' && raw.name.length > 0 ? raw.name : `key${index}`,
      models: names(raw.models, `${at}.models`),
      collections: names(raw.collections, `${at}.collections`),
      tokensPerMinute: count(raw.tokensPerMinute, `${at}.tokensPerMinute`),
      tokensPerDay: count(raw.tokensPerDay, `${at}.tokensPerDay`),
      shardTokens: tokens(raw.shardTokens, `${at}.shardTokens`),
      requestsPerSecond: count(raw.requestsPerSecond, `${at}.requestsPerSecond`),
      burst: count(raw.burst, `${at}.burst`),
    },
  ];
}

/** Reads a keys file (YAML or JSON: a list of entries, or `{ keys: [...] }`). Throws KeysFileError naming the entry. */
export function readKeysFile(path: string): [string, Tenant][] {
  const parsed = parseYaml(readFileSync(path, 'utf8')) as unknown;
  const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new KeysFileError('keys', 'the file must hold a list of keys, or { keys: [...] }');
  return list.map((raw, i) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new KeysFileError(`keys[${i}]`, 'must be a mapping');
    return tenantEntry(raw as Record<string, unknown>, `keys[${i}]`, i);
  });
}

/** The tenant holding `key`: only its hash is compared, so timing reveals nothing of the key. */
export function findTenant(byHash: ReadonlyMap<string, Tenant>, key: string): Tenant | undefined {
  return byHash.get(hashKey(key));
}
