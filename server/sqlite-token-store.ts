// TokenStore in the server's SQLite database (the `tokens` table, a unique
// index on the digest): the single-server default.
import type { SqliteDatabase } from './database.js';
import { settle } from './settle.js';
import {
  PURGE_AFTER_MS,
  implausibleSecret,
  newSecret,
  newTokenRecord,
  sameDigest,
  tokenDigest,
  type IssueRequest,
  type Issued,
  type RevokeFilter,
  type TokenKind,
  type TokenRecord,
  type TokenRole,
  type TokenStore,
} from './token-store.js';

interface Row {
  id: string;
  kind: TokenKind;
  owner: string;
  session_id: string | null;
  node_id: string | null;
  host_id: string | null;
  max_replicas: number | null;
  max_cores: number | null;
  parent_id: string | null;
  role: TokenRole;
  label: string;
  hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

function toRecord(r: Row): TokenRecord {
  return {
    id: r.id,
    kind: r.kind,
    owner: r.owner,
    sessionId: r.session_id,
    nodeId: r.node_id,
    hostId: r.host_id,
    maxReplicas: r.max_replicas,
    maxCores: r.max_cores,
    parentId: r.parent_id,
    role: r.role,
    label: r.label,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

export class SqliteTokenStore implements TokenStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;

  constructor(db: SqliteDatabase, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  issue(req: IssueRequest): Promise<Issued> {
    return settle(() => {
      const secret = newSecret(req.kind);
      const { id, expiresAt } = this.#insert(secret, req);
      return { id, secret, expiresAt };
    });
  }

  ensure(secret: string, req: IssueRequest): Promise<string> {
    return settle(() => {
      const hash = tokenDigest(secret).toString('hex');
      const row = this.#db.prepare('SELECT * FROM tokens WHERE hash = ?').get(hash) as Row | undefined;
      if (!row) return this.#insert(secret, req).id;
      this.#db
        .prepare('UPDATE tokens SET revoked_at = NULL, expires_at = ?, owner = ?, role = ?, kind = ? WHERE id = ?')
        .run(this.#now() + req.ttlMs, req.owner, req.role, req.kind, row.id);
      return row.id;
    });
  }

  #insert(secret: string, req: IssueRequest): { id: string; expiresAt: number } {
    const t = newTokenRecord(req, this.#now());
    this.#db
      .prepare(
        `INSERT INTO tokens (id, kind, owner, session_id, node_id, host_id, max_replicas, max_cores, parent_id,
                             role, label, hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        t.id,
        t.kind,
        t.owner,
        t.sessionId,
        t.nodeId,
        t.hostId,
        t.maxReplicas,
        t.maxCores,
        t.parentId,
        t.role,
        t.label,
        tokenDigest(secret).toString('hex'),
        t.createdAt,
        t.expiresAt,
      );
    return { id: t.id, expiresAt: t.expiresAt };
  }

  verify(secret: string): Promise<TokenRecord | null> {
    return settle(() => {
      if (implausibleSecret(secret)) return null;
      const digest = tokenDigest(secret);
      const row = this.#db.prepare('SELECT * FROM tokens WHERE hash = ?').get(digest.toString('hex')) as
        Row | undefined;
      if (!row || !sameDigest(row.hash, digest)) return null;
      if (row.revoked_at !== null || row.expires_at <= this.#now()) return null;
      return toRecord(row);
    });
  }

  get(id: string): Promise<TokenRecord | null> {
    return settle(() => {
      const row = this.#db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as Row | undefined;
      return row ? toRecord(row) : null;
    });
  }

  isActive(id: string): Promise<boolean> {
    return settle(() => {
      const row = this.#db.prepare('SELECT expires_at, revoked_at FROM tokens WHERE id = ?').get(id) as
        Pick<Row, 'expires_at' | 'revoked_at'> | undefined;
      return row !== undefined && row.revoked_at === null && row.expires_at > this.#now();
    });
  }

  listActive(owner: string, kind?: TokenKind): Promise<TokenRecord[]> {
    return settle(() => {
      const rows = (
        kind
          ? this.#db
              .prepare(
                'SELECT * FROM tokens WHERE owner = ? AND kind = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC',
              )
              .all(owner, kind, this.#now())
          : this.#db
              .prepare(
                'SELECT * FROM tokens WHERE owner = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC',
              )
              .all(owner, this.#now())
      ) as Row[];
      return rows.map(toRecord);
    });
  }

  listActiveOfKind(kind: TokenKind): Promise<TokenRecord[]> {
    return settle(() => {
      const rows = this.#db
        .prepare(
          'SELECT * FROM tokens WHERE kind = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC',
        )
        .all(kind, this.#now()) as Row[];
      return rows.map(toRecord);
    });
  }

  countActive(owner: string, kind: TokenKind): Promise<number> {
    return settle(() => {
      const r = this.#db
        .prepare(
          'SELECT COUNT(*) AS n FROM tokens WHERE owner = ? AND kind = ? AND revoked_at IS NULL AND expires_at > ?',
        )
        .get(owner, kind, this.#now()) as { n: number };
      return r.n;
    });
  }

  revoke(id: string): Promise<boolean> {
    return settle(
      () =>
        this.#db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.#now(), id)
          .changes > 0,
    );
  }

  revokeWhere(filter: RevokeFilter): Promise<string[]> {
    return settle(() => {
      const clauses = ['revoked_at IS NULL'];
      const args: (string | number)[] = [];
      const columns: Array<[keyof RevokeFilter, string]> = [
        ['owner', 'owner = ?'],
        ['kind', 'kind = ?'],
        ['nodeId', 'node_id = ?'],
        ['hostId', 'host_id = ?'],
        ['parentId', 'parent_id = ?'],
        ['label', 'label = ?'],
        ['exceptId', 'id != ?'],
      ];
      for (const [field, clause] of columns) {
        const value = filter[field];
        if (value === undefined) continue;
        clauses.push(clause);
        args.push(value);
      }
      const where = clauses.join(' AND ');
      const tx = this.#db.transaction(() => {
        const ids = (this.#db.prepare(`SELECT id FROM tokens WHERE ${where}`).all(...args) as { id: string }[]).map(
          (r) => r.id,
        );
        this.#db.prepare(`UPDATE tokens SET revoked_at = ? WHERE ${where}`).run(this.#now(), ...args);
        return ids;
      });
      return tx.immediate();
    });
  }

  purge(): Promise<number> {
    return settle(() => {
      const cutoff = this.#now() - PURGE_AFTER_MS;
      return this.#db
        .prepare('DELETE FROM tokens WHERE expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)')
        .run(cutoff, cutoff).changes;
    });
  }
}
