// Who may connect, and as whom. Viewers present an owner token or a share link
// (a token bound to one session and a role); renderer nodes present the cluster
// join token once and receive their own credential, bound to their node id.
// Every secret is random, stored only as a digest (token-store.ts), expires,
// and is compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import type { ShareRole } from '../protocol/signalling.js';
import type { SecurityConfig } from './config.js';
import { ConfigError, ConflictError, ForbiddenError, NotFoundError, QuotaExceededError } from './errors.js';
import { HostTokens } from './host-tokens.js';
import type { Issued, TokenRecord, TokenStore } from './token-store.js';

const log = getLogger('access');

/**
 * The operator's owner name: the bootstrap/env owner token is an admin token
 * for it. 'local' is the owner every session had before tokens existed, so an
 * upgraded database's sessions stay the operator's.
 */
export const OPERATOR_OWNER = 'local';
/** Operator-supplied secrets must carry at least ~128 bits when base64-ish. */
export const MIN_SECRET_LENGTH = 22;
/** The admission id of nodes let in by the development-mode shared join token. */
export const SHARED_ADMISSION = 'shared';

/** A node credential's admission, as recorded when it was issued. */
function admissionOf(rec: TokenRecord): NodeAdmission {
  return {
    // Shared-mode credentials keep the host id the node claimed at registration.
    hostId: rec.parentId === SHARED_ADMISSION ? null : rec.hostId,
    admissionId: rec.parentId ?? SHARED_ADMISSION,
    maxReplicas: rec.maxReplicas,
    maxCores: rec.maxCores,
  };
}

export interface ViewerIdentity {
  owner: string;
  /** `view` may watch but never send input. */
  role: 'control' | 'view';
  /** When set, the credential is limited to this one session (share links). */
  sessionId?: string;
  /** The credential's id: revoking it drops connections that used it. */
  tokenId: string;
  /** ms since the epoch; requests after it are refused. */
  expiresAt: number;
  /** Owner token (may create sessions and share links) or share link. */
  kind: 'owner' | 'share';
  /** An operator token: may create owners and revoke node credentials. */
  admin: boolean;
}

/**
 * What the operator admitted a node as. The host id and the caps come from the
 * operator's per-host token, never from the node: placement spreads a session
 * over admissions, so one token can never hold two replicas of a session.
 */
export interface NodeAdmission {
  /** The admitted host, or null in the shared-token development mode (the node's own claim is used). */
  hostId: string | null;
  /** The host token the admission descends from ('shared' in development mode). */
  admissionId: string;
  maxReplicas: number | null;
  maxCores: number | null;
}

/** How a renderer node authenticated its connection. */
export type NodeAuth =
  | { via: 'join'; admission: NodeAdmission; tokenId: string | null; expiresAt: number }
  | { via: 'credential'; nodeId: string; tokenId: string; expiresAt: number; admission: NodeAdmission };

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * The client id as logged: the viewer's own id inside a space that belongs to
 * its credential, so no credential can write into another's idempotency space
 * (and make that party's real inputs look like duplicates). An owner's tokens
 * share one space (rotation keeps resends idempotent); each share link has its
 * own. Server-made client ids (`srv-…`) never carry a `:` and so never collide.
 */
export function scopedClientId(id: ViewerIdentity, clientId: string): string {
  const space = id.kind === 'share' ? `s.${id.tokenId}` : `o.${digest(id.owner).toString('hex').slice(0, 12)}`;
  return `${space}:${clientId}`;
}

export class Access {
  readonly store: TokenStore;
  /** The operator's per-host join tokens. */
  readonly hosts: HostTokens;
  readonly #security: SecurityConfig;
  readonly #joinTokenDigest: Buffer | undefined;
  /** The share create running for each owner (the next one waits for it). */
  readonly #shareCreates = new Map<string, Promise<Issued>>();

  constructor(store: TokenStore, security: SecurityConfig) {
    this.store = store;
    this.hosts = new HostTokens(store);
    this.#security = security;
    const join = security.joinToken;
    if (join !== undefined && !security.insecureDev) {
      throw new ConfigError(
        'a shared cluster join token (LOCKSTEP_JOIN_TOKEN / --join-token) is a development mode: nodes admitted by it ' +
          'choose their own host id. Issue one token per host instead (`lockstep token new --host <name>`), ' +
          'or set LOCKSTEP_INSECURE_DEV=1 to develop with a shared token',
      );
    }
    if (join !== undefined && (join.length < MIN_SECRET_LENGTH || join.length > LIMITS.maxTokenLength)) {
      throw new ConfigError(`the join token must be ${MIN_SECRET_LENGTH}-${LIMITS.maxTokenLength} characters`);
    }
    if (security.insecureDev) {
      log.warn(
        join === undefined
          ? 'LOCKSTEP_INSECURE_DEV: no join token, any renderer node may join and claim any host id (development only)'
          : 'LOCKSTEP_INSECURE_DEV: shared join token; nodes admitted by it claim their own host id (development only)',
      );
    }
    const own = security.ownerToken;
    if (own !== undefined && (own.length < MIN_SECRET_LENGTH || !/^[A-Za-z0-9_-]+$/.test(own))) {
      throw new ConfigError(`LOCKSTEP_OWNER_TOKEN must be at least ${MIN_SECRET_LENGTH} characters of [A-Za-z0-9_-]`);
    }
    this.#joinTokenDigest = join === undefined ? undefined : digest(join);
  }

  /**
   * Makes sure the operator can get in. With LOCKSTEP_OWNER_TOKEN that token is
   * (re)validated and any previous env token revoked; otherwise, when no owner
   * token is active, a new one is generated and returned: the caller prints it
   * once. Returns the new secret or undefined.
   */
  async bootstrap(): Promise<string | undefined> {
    const purged = await this.store.purge();
    if (purged > 0) log.info({ purged }, 'purged long-expired tokens');
    const ttlMs = this.#security.ownerTokenTtlMs;
    const env = this.#security.ownerToken;
    if (env !== undefined) {
      const id = await this.store.ensure(env, {
        kind: 'owner',
        owner: OPERATOR_OWNER,
        role: 'admin',
        label: 'env',
        ttlMs,
      });
      await this.store.revokeWhere({ owner: OPERATOR_OWNER, kind: 'owner', label: 'env', exceptId: id });
      return undefined;
    }
    if ((await this.store.countActive(OPERATOR_OWNER, 'owner')) > 0) return undefined;
    const issued = await this.store.issue({
      kind: 'owner',
      owner: OPERATOR_OWNER,
      role: 'admin',
      label: 'bootstrap',
      ttlMs,
    });
    log.warn(
      { tokenId: issued.id, expiresAt: new Date(issued.expiresAt).toISOString() },
      'generated the operator owner token: printed ONCE on stdout (the LOCKSTEP_OWNER_TOKEN line), only its hash is stored; rotate with `lockstep token rotate`',
    );
    return issued.secret;
  }

  /** Development mode only: the shared join token (or, without one, anything). Constant-time comparison. */
  #isSharedJoinToken(token: string): boolean {
    if (!this.#security.insecureDev) return false;
    if (!this.#joinTokenDigest) return true;
    return timingSafeEqual(digest(token), this.#joinTokenDigest);
  }

  async authenticateViewer(token: string): Promise<ViewerIdentity | null> {
    const rec = await this.#verify(token);
    if (!rec || (rec.kind !== 'owner' && rec.kind !== 'share')) return null;
    if (rec.kind === 'share') {
      if (!rec.sessionId || (rec.role !== 'control' && rec.role !== 'view')) return null;
      return {
        owner: rec.owner,
        role: rec.role,
        sessionId: rec.sessionId,
        tokenId: rec.id,
        expiresAt: rec.expiresAt,
        kind: 'share',
        admin: false,
      };
    }
    return {
      owner: rec.owner,
      role: 'control',
      tokenId: rec.id,
      expiresAt: rec.expiresAt,
      kind: 'owner',
      admin: rec.role === 'admin',
    };
  }

  async authenticateNode(token: string): Promise<NodeAuth | null> {
    if (token.length > LIMITS.maxTokenLength) return null;
    const rec = token.startsWith('lsn_') || token.startsWith('lsh_') ? await this.#verify(token) : null;
    // Node credentials: what a registered node reconnects with.
    if (rec?.kind === 'node' && rec.nodeId) {
      // A credential issued under a host token dies with it; one from the shared token lives only in development mode.
      const shared = rec.parentId === null || rec.parentId === SHARED_ADMISSION;
      if (shared ? !this.#security.insecureDev : !(await this.store.isActive(rec.parentId ?? ''))) return null;
      return {
        via: 'credential',
        nodeId: rec.nodeId,
        tokenId: rec.id,
        expiresAt: rec.expiresAt,
        admission: admissionOf(rec),
      };
    }
    if (rec?.kind === 'host' && rec.hostId) {
      return {
        via: 'join',
        tokenId: rec.id,
        expiresAt: rec.expiresAt,
        admission: { hostId: rec.hostId, admissionId: rec.id, maxReplicas: rec.maxReplicas, maxCores: rec.maxCores },
      };
    }
    if (!this.#isSharedJoinToken(token)) return null;
    return {
      via: 'join',
      tokenId: null,
      expiresAt: Number.MAX_SAFE_INTEGER,
      admission: { hostId: null, admissionId: SHARED_ADMISSION, maxReplicas: null, maxCores: null },
    };
  }

  async #verify(token: string): Promise<TokenRecord | null> {
    if (token.length === 0 || token.length > LIMITS.maxTokenLength) return null;
    return this.store.verify(token);
  }

  /**
   * A fresh credential for a node that joined; earlier ones for the same id
   * stop working. It carries the admission (host id, caps, host token) along.
   */
  async issueNodeCredential(
    nodeId: string,
    admission: NodeAdmission,
    hostId: string,
  ): Promise<{ issued: Issued; revoked: string[] }> {
    if (admission.hostId !== null) {
      // A node id is its host's: another host's join token may not take it over (that would revoke a node it
      // does not own). The operator frees the id by revoking its credential.
      const other = (await this.store.listActiveOfKind('node')).find((r) => r.nodeId === nodeId && r.hostId !== hostId);
      if (other) {
        throw new ConflictError(`node id ${nodeId} belongs to another host; choose another node id`, { nodeId });
      }
    }
    const revoked = await this.store.revokeWhere({ kind: 'node', nodeId });
    const issued = await this.store.issue({
      kind: 'node',
      owner: `node:${nodeId}`,
      nodeId,
      hostId,
      maxReplicas: admission.maxReplicas,
      maxCores: admission.maxCores,
      parentId: admission.admissionId,
      role: 'node',
      label: 'join',
      ttlMs: this.#security.nodeCredentialTtlMs,
    });
    return { issued, revoked };
  }

  /** A share link for one session. Only an owner token may mint them (a link cannot re-share). */
  async createShare(id: ViewerIdentity, sessionId: string, role: ShareRole, ttlSeconds: number): Promise<Issued> {
    if (id.kind !== 'owner') throw new ForbiddenError('a share link cannot create share links', { sessionId });
    // One owner's creates run one after another, so a burst cannot pass the count together. Per server: two
    // cluster servers racing can overshoot the cap by one link each.
    const owner = id.owner;
    const run = (this.#shareCreates.get(owner) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#issueShare(owner, sessionId, role, ttlSeconds));
    this.#shareCreates.set(owner, run);
    try {
      return await run;
    } finally {
      if (this.#shareCreates.get(owner) === run) this.#shareCreates.delete(owner);
    }
  }

  async #issueShare(owner: string, sessionId: string, role: ShareRole, ttlSeconds: number): Promise<Issued> {
    const active = await this.store.countActive(owner, 'share');
    if (active >= LIMITS.maxActiveSharesPerOwner) {
      throw new QuotaExceededError(
        `owner already has ${active} active share links (limit ${LIMITS.maxActiveSharesPerOwner}); revoke some`,
        { owner },
      );
    }
    const ttl = Math.min(Math.max(ttlSeconds, LIMITS.minShareTtlSeconds), LIMITS.maxShareTtlSeconds);
    return this.store.issue({
      kind: 'share',
      owner,
      sessionId,
      role,
      label: 'share',
      ttlMs: ttl * 1000,
    });
  }

  /**
   * Replaces the presented owner token with a new one. With `everything`, all
   * other owner tokens and every share link of the owner are revoked too.
   * Returns the new token and the ids revoked (to drop their connections).
   */
  async rotateOwner(id: ViewerIdentity, everything: boolean): Promise<{ issued: Issued; revoked: string[] }> {
    if (id.kind !== 'owner') throw new ForbiddenError('only an owner token can be rotated', {});
    const revoked = everything
      ? await this.store.revokeWhere({ owner: id.owner })
      : (await this.store.revoke(id.tokenId))
        ? [id.tokenId]
        : [];
    const issued = await this.store.issue({
      kind: 'owner',
      owner: id.owner,
      role: id.admin ? 'admin' : 'control',
      label: 'rotated',
      ttlMs: this.#security.ownerTokenTtlMs,
    });
    return { issued, revoked };
  }

  /** Operator only: an owner token for another owner (their sessions are invisible to everyone else). */
  async createOwner(id: ViewerIdentity, owner: string, ttlDays: number | undefined): Promise<Issued> {
    if (!id.admin) throw new ForbiddenError('only the operator token can create owners', {});
    return this.store.issue({
      kind: 'owner',
      owner,
      role: owner === OPERATOR_OWNER ? 'admin' : 'control',
      label: 'issued',
      ttlMs: ttlDays === undefined ? this.#security.ownerTokenTtlMs : ttlDays * 24 * 3600_000,
    });
  }

  /** Revokes one token by id: an owner its own tokens; the operator also node credentials. */
  async revoke(id: ViewerIdentity, tokenId: string): Promise<void> {
    if (id.kind !== 'owner') throw new ForbiddenError('a share link cannot revoke tokens', {});
    const rec = await this.store.get(tokenId);
    const mine = rec !== null && rec.owner === id.owner;
    const operatorNode = rec !== null && rec.kind === 'node' && id.admin;
    // Same answer for "not yours" and "missing": token ids are not probeable.
    if (!rec || (!mine && !operatorNode)) throw new NotFoundError(`no token ${tokenId}`, { tokenId });
    await this.store.revoke(tokenId);
  }

  isActive(tokenId: string): Promise<boolean> {
    return this.store.isActive(tokenId);
  }
}
