// Credentials at rest: owner tokens, share links and node credentials live in
// the `tokens` table as sha256 digests of 192-bit random secrets. A lookup goes
// by digest (unique index) and then compares the digests in constant time, so
// neither the stored rows nor response timing reveal a usable secret.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LIMITS } from '../protocol/limits.js';
import type { SqliteDatabase } from './database.js';

/** `host`: a per-host join token (the operator's admission of one machine); `node`: a node's own credential. */
export type TokenKind = 'owner' | 'share' | 'node' | 'host';
/** `admin` is an operator's owner token (may create other owners, revoke node credentials). */
export type TokenRole = 'admin' | 'control' | 'view' | 'node';

export interface TokenRecord {
  id: string;
  kind: TokenKind;
  owner: string;
  sessionId: string | null;
  nodeId: string | null;
  /** host and node tokens: the host the operator admitted (a node's host id comes from here, not from the node). */
  hostId: string | null;
  /** Operator caps on what nodes of this host may claim (null: no cap). */
  maxReplicas: number | null;
  maxCores: number | null;
  /** A node credential: the host token it was issued under (revoking that revokes this). */
  parentId: string | null;
  role: TokenRole;
  /** Where it came from: env, bootstrap, rotated, issued, share, join. */
  label: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface IssueRequest {
  kind: TokenKind;
  owner: string;
  role: TokenRole;
  label: string;
  ttlMs: number;
  sessionId?: string;
  nodeId?: string;
  hostId?: string | null;
  maxReplicas?: number | null;
  maxCores?: number | null;
  parentId?: string | null;
}

export interface Issued {
  id: string;
  secret: string;
  expiresAt: number;
}

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

const PREFIX: Record<TokenKind, string> = { owner: 'lso', share: 'lss', node: 'lsn', host: 'lsh' };
/** Expired or revoked rows are kept this long (audit), then purged so the table stays bounded. */
const PURGE_AFTER_MS = 30 * 24 * 3600_000;

export function tokenDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** 192 bits from the CSPRNG, base64url, prefixed by kind so a leaked string is recognisable. */
export function newSecret(kind: TokenKind): string {
  return `${PREFIX[kind]}_${randomBytes(24).toString('base64url')}`;
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

export class TokenStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;

  constructor(db: SqliteDatabase, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  issue(req: IssueRequest): Issued {
    const secret = newSecret(req.kind);
    const { id, expiresAt } = this.#insert(secret, req);
    return { id, secret, expiresAt };
  }

  /**
   * Makes an operator-chosen secret (LOCKSTEP_OWNER_TOKEN) valid: inserted if
   * new, un-revoked and its expiry renewed if known. Returns the row id.
   */
  ensure(secret: string, req: IssueRequest): string {
    const hash = tokenDigest(secret).toString('hex');
    const row = this.#db.prepare('SELECT * FROM tokens WHERE hash = ?').get(hash) as Row | undefined;
    if (!row) return this.#insert(secret, req).id;
    this.#db
      .prepare('UPDATE tokens SET revoked_at = NULL, expires_at = ?, owner = ?, role = ?, kind = ? WHERE id = ?')
      .run(this.#now() + req.ttlMs, req.owner, req.role, req.kind, row.id);
    return row.id;
  }

  #insert(secret: string, req: IssueRequest): { id: string; expiresAt: number } {
    const now = this.#now();
    const id = `t-${randomBytes(8).toString('hex')}`;
    const expiresAt = now + req.ttlMs;
    this.#db
      .prepare(
        `INSERT INTO tokens (id, kind, owner, session_id, node_id, host_id, max_replicas, max_cores, parent_id,
                             role, label, hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        req.kind,
        req.owner,
        req.sessionId ?? null,
        req.nodeId ?? null,
        req.hostId ?? null,
        req.maxReplicas ?? null,
        req.maxCores ?? null,
        req.parentId ?? null,
        req.role,
        req.label,
        tokenDigest(secret).toString('hex'),
        now,
        expiresAt,
      );
    return { id, expiresAt };
  }

  /** The live record for a presented secret, or null (unknown, expired, revoked, malformed). */
  verify(secret: string): TokenRecord | null {
    if (secret.length === 0 || secret.length > LIMITS.maxTokenLength) return null;
    const digest = tokenDigest(secret);
    const row = this.#db.prepare('SELECT * FROM tokens WHERE hash = ?').get(digest.toString('hex')) as Row | undefined;
    if (!row) return null;
    // The index lookup already matched; the constant-time compare keeps the
    // decision itself free of data-dependent branches on secret material.
    const stored = Buffer.from(row.hash, 'hex');
    if (stored.length !== digest.length || !timingSafeEqual(stored, digest)) return null;
    if (row.revoked_at !== null || row.expires_at <= this.#now()) return null;
    return toRecord(row);
  }

  get(id: string): TokenRecord | null {
    const row = this.#db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  /** Still valid (neither revoked nor expired)? Used to drop live connections after a revoke. */
  isActive(id: string): boolean {
    const row = this.#db.prepare('SELECT expires_at, revoked_at FROM tokens WHERE id = ?').get(id) as
      Pick<Row, 'expires_at' | 'revoked_at'> | undefined;
    return row !== undefined && row.revoked_at === null && row.expires_at > this.#now();
  }

  /** Active (unrevoked, unexpired) tokens of an owner, newest first, without secrets. */
  listActive(owner: string, kind?: TokenKind): TokenRecord[] {
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
  }

  /** Active tokens of one kind across owners (the operator's view of node credentials). */
  listActiveOfKind(kind: TokenKind): TokenRecord[] {
    const rows = this.#db
      .prepare('SELECT * FROM tokens WHERE kind = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC')
      .all(kind, this.#now()) as Row[];
    return rows.map(toRecord);
  }

  countActive(owner: string, kind: TokenKind): number {
    const r = this.#db
      .prepare(
        'SELECT COUNT(*) AS n FROM tokens WHERE owner = ? AND kind = ? AND revoked_at IS NULL AND expires_at > ?',
      )
      .get(owner, kind, this.#now()) as { n: number };
    return r.n;
  }

  /** Revokes one token; returns whether it was active. */
  revoke(id: string): boolean {
    return (
      this.#db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.#now(), id)
        .changes > 0
    );
  }

  /** Revokes every active token matching; returns their ids (to disconnect live sockets). */
  revokeWhere(filter: {
    owner?: string;
    kind?: TokenKind;
    nodeId?: string;
    hostId?: string;
    parentId?: string;
    label?: string;
    exceptId?: string;
  }): string[] {
    const clauses = ['revoked_at IS NULL'];
    const args: (string | number)[] = [];
    if (filter.owner !== undefined) {
      clauses.push('owner = ?');
      args.push(filter.owner);
    }
    if (filter.kind !== undefined) {
      clauses.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.nodeId !== undefined) {
      clauses.push('node_id = ?');
      args.push(filter.nodeId);
    }
    if (filter.hostId !== undefined) {
      clauses.push('host_id = ?');
      args.push(filter.hostId);
    }
    if (filter.parentId !== undefined) {
      clauses.push('parent_id = ?');
      args.push(filter.parentId);
    }
    if (filter.label !== undefined) {
      clauses.push('label = ?');
      args.push(filter.label);
    }
    if (filter.exceptId !== undefined) {
      clauses.push('id != ?');
      args.push(filter.exceptId);
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
  }

  /** Deletes rows that expired or were revoked long ago. */
  purge(): number {
    const cutoff = this.#now() - PURGE_AFTER_MS;
    return this.#db
      .prepare('DELETE FROM tokens WHERE expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)')
      .run(cutoff, cutoff).changes;
  }
}
