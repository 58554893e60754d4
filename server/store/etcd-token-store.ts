// TokenStore on etcd: credential digests replicated on a majority of the etcd
// members, so any server accepts any valid token, and a revocation or expiry
// written through one server holds on every other at its next lookup.
//
// Keys:
//   <ns>tok/id/<id>        the record (JSON) with the sha256 digest of its secret, never the secret
//   <ns>tok/hash/<digest>  the id whose secret has this digest (the lookup index)
// The list and revoke-many operations read the whole id range: tokens are
// bounded (share links per owner, one join token per host, expired ones purged).
import type { Etcd3 } from 'etcd3';
import { z } from 'zod';
import { DurabilityError } from '../errors.js';
import {
  PURGE_AFTER_MS,
  implausibleSecret,
  isLive,
  matchesRevokeFilter,
  newSecret,
  newTokenRecord,
  newestFirst,
  sameDigest,
  tokenDigest,
  type IssueRequest,
  type Issued,
  type RevokeFilter,
  type TokenKind,
  type TokenRecord,
  type TokenStore,
} from '../token-store.js';
import { EtcdRecords, MAX_CAS_ATTEMPTS, type Versioned } from './etcd-records.js';

const StoredTokenSchema = z.object({
  id: z.string(),
  kind: z.enum(['owner', 'share', 'node', 'host']),
  owner: z.string(),
  sessionId: z.string().nullable(),
  nodeId: z.string().nullable(),
  hostId: z.string().nullable(),
  maxReplicas: z.number().int().nullable(),
  maxCores: z.number().int().nullable(),
  parentId: z.string().nullable(),
  role: z.enum(['admin', 'control', 'view', 'node']),
  label: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  revokedAt: z.number().nullable(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
type StoredToken = z.infer<typeof StoredTokenSchema>;

/** Tokens revoked per transaction (one compare and one put each, within etcd's 128 operations). */
const REVOKE_PAGE = 60;

const enc = (s: string): string => encodeURIComponent(s);

function toRecord(t: StoredToken): TokenRecord {
  const { hash: _hash, ...record } = t;
  return record;
}

export interface EtcdTokenStoreOptions {
  /** Key prefix shared with the other etcd stores (default "lockstep/"). */
  namespace?: string;
  now?: () => number;
}

export class EtcdTokenStore implements TokenStore {
  readonly #records: EtcdRecords<StoredToken>;
  readonly #ns: string;
  readonly #now: () => number;

  /** `client` is the caller's (it closes it). */
  constructor(client: Etcd3, options: EtcdTokenStoreOptions = {}) {
    this.#records = new EtcdRecords(client, StoredTokenSchema, 'token');
    this.#ns = `${options.namespace ?? 'lockstep/'}tok/`;
    this.#now = options.now ?? Date.now;
  }

  async issue(req: IssueRequest): Promise<Issued> {
    const secret = newSecret(req.kind);
    const t = await this.#insert(secret, req);
    return { id: t.id, secret, expiresAt: t.expiresAt };
  }

  async ensure(secret: string, req: IssueRequest): Promise<string> {
    const hash = tokenDigest(secret).toString('hex');
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const known = await this.#byDigest(hash);
      if (!known) return (await this.#insert(secret, req)).id;
      const renewed: StoredToken = {
        ...known.value,
        revokedAt: null,
        expiresAt: this.#now() + req.ttlMs,
        owner: req.owner,
        role: req.role,
        kind: req.kind,
      };
      if (await this.#swap(known, renewed)) return renewed.id;
    }
    throw new DurabilityError('token ensure kept conflicting with concurrent writes', {});
  }

  async verify(secret: string): Promise<TokenRecord | null> {
    if (implausibleSecret(secret)) return null;
    const digest = tokenDigest(secret);
    const found = await this.#byDigest(digest.toString('hex'));
    if (!found || !sameDigest(found.value.hash, digest) || !isLive(found.value, this.#now())) return null;
    return toRecord(found.value);
  }

  async get(id: string): Promise<TokenRecord | null> {
    const found = await this.#records.get(this.#idKey(id));
    return found ? toRecord(found.value) : null;
  }

  async isActive(id: string): Promise<boolean> {
    const found = await this.#records.get(this.#idKey(id));
    return found !== null && isLive(found.value, this.#now());
  }

  async listActive(owner: string, kind?: TokenKind): Promise<TokenRecord[]> {
    return this.#listLive((t) => t.owner === owner && (kind === undefined || t.kind === kind));
  }

  async listActiveOfKind(kind: TokenKind): Promise<TokenRecord[]> {
    return this.#listLive((t) => t.kind === kind);
  }

  async countActive(owner: string, kind: TokenKind): Promise<number> {
    return (await this.listActive(owner, kind)).length;
  }

  async revoke(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const found = await this.#records.get(this.#idKey(id));
      if (!found || found.value.revokedAt !== null) return false;
      if (await this.#swap(found, { ...found.value, revokedAt: this.#now() })) return true;
    }
    throw new DurabilityError('token revoke kept conflicting with concurrent writes', { tokenId: id });
  }

  async revokeWhere(filter: RevokeFilter): Promise<string[]> {
    const revoked: string[] = [];
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const now = this.#now();
      const matching = (await this.#records.prefix(`${this.#ns}id/`)).filter((t) =>
        matchesRevokeFilter(t.value, filter),
      );
      if (matching.length === 0) return revoked;
      let conflicted = false;
      for (let i = 0; i < matching.length; i += REVOKE_PAGE) {
        const page = matching.slice(i, i + REVOKE_PAGE);
        const done = await this.#records.commit((c) => {
          const [first, ...rest] = page as [Versioned<StoredToken>, ...Versioned<StoredToken>[]];
          const txn = c.if(first.key, 'Mod', '==', first.rev);
          for (const t of rest) txn.and(t.key, 'Mod', '==', t.rev);
          return txn.then(...page.map((t) => c.put(t.key).value(JSON.stringify({ ...t.value, revokedAt: now }))));
        });
        if (done) revoked.push(...page.map((t) => t.value.id));
        else conflicted = true;
      }
      // A token changed between the read and the write: read again and revoke what still matches.
      if (!conflicted) return revoked;
    }
    throw new DurabilityError('token revocation kept conflicting with concurrent writes', {});
  }

  async purge(): Promise<number> {
    const cutoff = this.#now() - PURGE_AFTER_MS;
    const old = (await this.#records.prefix(`${this.#ns}id/`)).filter(
      (t) => t.value.expiresAt < cutoff || (t.value.revokedAt !== null && t.value.revokedAt < cutoff),
    );
    let n = 0;
    for (let i = 0; i < old.length; i += REVOKE_PAGE) {
      const page = old.slice(i, i + REVOKE_PAGE);
      const done = await this.#records.commit((c) =>
        c
          .if(page[0]?.key ?? '', 'Create', '>', 0)
          .then(...page.flatMap((t) => [c.delete().key(t.key), c.delete().key(this.#hashKey(t.value.hash))])),
      );
      if (done) n += page.length;
    }
    return n;
  }

  async #insert(secret: string, req: IssueRequest): Promise<StoredToken> {
    const t: StoredToken = { ...newTokenRecord(req, this.#now()), hash: tokenDigest(secret).toString('hex') };
    const idKey = this.#idKey(t.id);
    const hashKey = this.#hashKey(t.hash);
    const done = await this.#records.commit((c) =>
      c
        .if(hashKey, 'Create', '==', 0)
        .and(idKey, 'Create', '==', 0)
        .then(c.put(idKey).value(JSON.stringify(t)), c.put(hashKey).value(t.id)),
    );
    // 192-bit secrets and 64-bit ids: a collision means something else wrote these keys.
    if (!done) throw new DurabilityError('token key already taken in etcd', { tokenId: t.id });
    return t;
  }

  async #byDigest(hash: string): Promise<Versioned<StoredToken> | null> {
    const id = (await this.#records.raw(this.#hashKey(hash))).value;
    if (id === null) return null;
    const found = await this.#records.get(this.#idKey(id));
    return found && found.value.hash === hash ? found : null;
  }

  #swap(current: Versioned<StoredToken>, next: StoredToken): Promise<boolean> {
    return this.#records.commit((c) =>
      c.if(current.key, 'Mod', '==', current.rev).then(c.put(current.key).value(JSON.stringify(next))),
    );
  }

  async #listLive(keep: (t: StoredToken) => boolean): Promise<TokenRecord[]> {
    const now = this.#now();
    return (await this.#records.prefix(`${this.#ns}id/`))
      .map((t) => t.value)
      .filter((t) => isLive(t, now) && keep(t))
      .map(toRecord)
      .sort(newestFirst);
  }

  #idKey(id: string): string {
    return `${this.#ns}id/${enc(id)}`;
  }

  #hashKey(hash: string): string {
    return `${this.#ns}hash/${hash}`;
  }
}
