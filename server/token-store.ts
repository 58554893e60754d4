// Credentials at rest: owner tokens, share links, host join tokens and node
// credentials, stored as sha256 digests of 192-bit random secrets, never the
// secrets. SQLite implements the store embedded (sqlite-token-store.ts), etcd
// replicated so that any server accepts any valid token and a revocation made
// through one holds on all (store/etcd-token-store.ts); both pass one contract
// suite (test/integration/token-store-contract.test.ts).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LIMITS } from '../protocol/limits.js';

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

/** Which active tokens revokeWhere() revokes: every given field must match. */
export interface RevokeFilter {
  owner?: string;
  kind?: TokenKind;
  nodeId?: string;
  hostId?: string;
  parentId?: string;
  label?: string;
  exceptId?: string;
}

export interface TokenStore {
  /** A new random secret for `req`; only its digest is stored. */
  issue(req: IssueRequest): Promise<Issued>;
  /**
   * Makes an operator-chosen secret (LOCKSTEP_OWNER_TOKEN) valid: inserted if
   * new, un-revoked and its expiry renewed if known. Returns the row id.
   */
  ensure(secret: string, req: IssueRequest): Promise<string>;
  /** The live record for a presented secret, or null (unknown, expired, revoked, malformed). */
  verify(secret: string): Promise<TokenRecord | null>;
  get(id: string): Promise<TokenRecord | null>;
  /** Still valid (neither revoked nor expired)? Used to drop live connections after a revoke. */
  isActive(id: string): Promise<boolean>;
  /** Active (unrevoked, unexpired) tokens of an owner, newest first, without secrets. */
  listActive(owner: string, kind?: TokenKind): Promise<TokenRecord[]>;
  /** Active tokens of one kind across owners (the operator's view of node credentials), newest first. */
  listActiveOfKind(kind: TokenKind): Promise<TokenRecord[]>;
  countActive(owner: string, kind: TokenKind): Promise<number>;
  /** Revokes one token; returns whether it was active. */
  revoke(id: string): Promise<boolean>;
  /** Revokes every active token matching; returns their ids (to disconnect live sockets). */
  revokeWhere(filter: RevokeFilter): Promise<string[]>;
  /** Deletes rows that expired or were revoked long ago; returns how many. */
  purge(): Promise<number>;
}

const PREFIX: Record<TokenKind, string> = { owner: 'lso', share: 'lss', node: 'lsn', host: 'lsh' };
/** Expired or revoked rows are kept this long (audit), then purged so the store stays bounded. */
export const PURGE_AFTER_MS = 30 * 24 * 3600_000;

export function tokenDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** 192 bits from the CSPRNG, base64url, prefixed by kind so a leaked string is recognisable. */
export function newSecret(kind: TokenKind): string {
  return `${PREFIX[kind]}_${randomBytes(24).toString('base64url')}`;
}

export function newTokenId(): string {
  return `t-${randomBytes(8).toString('hex')}`;
}

/** A secret that cannot be any token's (empty, or longer than any token): refused before a lookup. */
export function implausibleSecret(secret: string): boolean {
  return secret.length === 0 || secret.length > LIMITS.maxTokenLength;
}

/**
 * The lookup already matched by digest; the constant-time compare keeps the
 * decision itself free of data-dependent branches on secret material.
 */
export function sameDigest(storedHex: string, digest: Buffer): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  return stored.length === digest.length && timingSafeEqual(stored, digest);
}

export function isLive(t: Pick<TokenRecord, 'revokedAt' | 'expiresAt'>, now: number): boolean {
  return t.revokedAt === null && t.expiresAt > now;
}

/** Newest first: the order the list methods promise. */
export function newestFirst(a: TokenRecord, b: TokenRecord): number {
  return b.createdAt - a.createdAt;
}

/** The record issue() stores for `req` (without its digest). */
export function newTokenRecord(req: IssueRequest, now: number): TokenRecord {
  return {
    id: newTokenId(),
    kind: req.kind,
    owner: req.owner,
    sessionId: req.sessionId ?? null,
    nodeId: req.nodeId ?? null,
    hostId: req.hostId ?? null,
    maxReplicas: req.maxReplicas ?? null,
    maxCores: req.maxCores ?? null,
    parentId: req.parentId ?? null,
    role: req.role,
    label: req.label,
    createdAt: now,
    expiresAt: now + req.ttlMs,
    revokedAt: null,
  };
}

/** Does an active token match revokeWhere()'s filter (stores that filter in code rather than in SQL)? */
export function matchesRevokeFilter(t: TokenRecord, f: RevokeFilter): boolean {
  return (
    t.revokedAt === null &&
    (f.owner === undefined || t.owner === f.owner) &&
    (f.kind === undefined || t.kind === f.kind) &&
    (f.nodeId === undefined || t.nodeId === f.nodeId) &&
    (f.hostId === undefined || t.hostId === f.hostId) &&
    (f.parentId === undefined || t.parentId === f.parentId) &&
    (f.label === undefined || t.label === f.label) &&
    (f.exceptId === undefined || t.id !== f.exceptId)
  );
}
