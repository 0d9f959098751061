// Bearer tokens with read / write / admin scope per collection (docs/protocol.md §5.1, docs/operations.md).
import { createHash } from 'node:crypto';
import { ForbiddenError, InvalidArgumentError, UnauthorizedError, type Request } from '@ragwire/protocol';

export type Scope = 'read' | 'write' | 'admin';

/** One grant: `token` may do `scope` (and every lesser scope) on `collection` ('*': every collection). */
export interface TokenGrant {
  token: string;
  scope: Scope;
  collection: string;
}

const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

/** Every scope, least first. */
export const SCOPES = Object.keys(RANK) as readonly Scope[];

/** What each request needs: reads, writes, and collection administration. */
export const REQUIRED_SCOPE: Record<Exclude<Request['type'], 'hello' | 'extensions'>, Scope> = {
  query: 'read',
  describe: 'read',
  stats: 'read',
  upsert: 'write',
  delete: 'write',
  create: 'admin',
  drop: 'admin',
  snapshot: 'admin',
};

/** Parses the CLI form `TOKEN[:scope[:collection]]`; scope defaults to admin, collection to '*'. */
export function parseTokenSpec(spec: string): TokenGrant {
  const [token = '', scope = 'admin', collection = '*', ...rest] = spec.split(':');
  if (token.length < 8 || rest.length > 0) {
    throw new InvalidArgumentError(
      `--token must be TOKEN[:scope[:collection]] with a token of at least 8 characters and no ':', got ${JSON.stringify(mask(spec))}`,
    );
  }
  if (!(scope in RANK)) throw new InvalidArgumentError(`token scope must be read, write or admin, got ${JSON.stringify(scope)}`);
  if (collection === '') throw new InvalidArgumentError('token collection must be a name or *');
  return { token, scope: scope as Scope, collection };
}

function mask(spec: string): string {
  const token = spec.split(':')[0] ?? '';
  return token.length <= 4 ? spec : `${token.slice(0, 2)}...${spec.slice(token.length)}`;
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}

/** The grants of one authenticated connection. */
export class Principal {
  constructor(
    /** Short, non-secret name for logs: the first characters of the token's digest. */
    readonly id: string,
    private readonly grants: readonly { scope: Scope; collection: string }[],
  ) {}

  /** Whether this principal may do `scope` on `collection` (undefined: the whole server, which needs a '*' grant). */
  may(scope: Scope, collection: string | undefined): boolean {
    for (const g of this.grants) {
      if (RANK[g.scope] >= RANK[scope] && (g.collection === '*' || g.collection === collection)) return true;
    }
    return false;
  }

  /** The collections this principal may read: every one, or those named. */
  readable(): { any: boolean; names: string[] } {
    const names = new Set<string>();
    for (const g of this.grants) {
      if (RANK[g.scope] < RANK.read) continue;
      if (g.collection === '*') return { any: true, names: [] };
      names.add(g.collection);
    }
    return { any: false, names: [...names] };
  }

  /** Throws ForbiddenError unless `may(scope, collection)`. */
  check(scope: Scope, collection: string | undefined): void {
    if (!this.may(scope, collection)) {
      throw new ForbiddenError(`token ${this.id} lacks ${scope} scope on ${collection === undefined ? 'the whole server' : `collection ${collection}`}`);
    }
  }
}

/** The full-access principal of a server without tokens (it listens on loopback only). */
export const LOOPBACK_PRINCIPAL = new Principal('loopback', [{ scope: 'admin', collection: '*' }]);

/** Looks tokens up by digest, so a lookup's time does not depend on how much of a token matched. */
export class TokenTable {
  private readonly byDigest = new Map<string, Principal>();

  constructor(grants: readonly TokenGrant[]) {
    const grouped = new Map<string, { scope: Scope; collection: string }[]>();
    for (const g of grants) {
      const d = digest(g.token);
      const list = grouped.get(d) ?? [];
      list.push({ scope: g.scope, collection: g.collection });
      grouped.set(d, list);
    }
    for (const [d, list] of grouped) this.byDigest.set(d, new Principal(d.slice(0, 8), list));
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** The principal of `token`; UnauthorizedError when it is missing or unknown. */
  authenticate(token: string | undefined): Principal {
    if (token === undefined || token === '') throw new UnauthorizedError('this server requires a token in HELLO');
    const p = this.byDigest.get(digest(token));
    if (p === undefined) throw new UnauthorizedError('unknown token');
    return p;
  }
}
