// Offline credential administration on a server's database (the `lockstep
// token` commands). SQLite in WAL mode lets this run next to a live server; the
// server's periodic re-check drops connections whose credentials were revoked
// here within seconds.
import { join } from 'node:path';
import { OPERATOR_OWNER } from './access.js';
import { openDatabase } from './database.js';
import { HostTokens, type AdmittedHost, type HostCaps } from './host-tokens.js';
import { SqliteTokenStore } from './sqlite-token-store.js';
import { newSecret, type Issued, type TokenStore } from './token-store.js';

export function databaseFile(dataDir: string): string {
  return join(dataDir, 'lockstep.sqlite');
}

/** A fresh random secret (192 bits), e.g. for LOCKSTEP_OWNER_TOKEN or a development-mode shared join token. */
export function generateSecret(): string {
  return newSecret('owner').replace(/^lso_/, 'lsj_');
}

async function withStore<T>(dataDir: string, fn: (store: TokenStore) => Promise<T>): Promise<T> {
  const db = openDatabase(databaseFile(dataDir));
  try {
    return await fn(new SqliteTokenStore(db));
  } finally {
    db.close();
  }
}

/**
 * Revokes every operator owner token (and, with `shares`, every share link of
 * the operator) and issues a new operator token. Returns the new secret.
 */
export function rotateOperatorToken(
  dataDir: string,
  opts: { ttlDays: number; shares: boolean },
): Promise<{ token: string; revoked: number; expiresAt: number }> {
  return withStore(dataDir, async (store) => {
    const revoked = await store.revokeWhere({
      owner: OPERATOR_OWNER,
      ...(opts.shares ? {} : { kind: 'owner' as const }),
    });
    const issued = await store.issue({
      kind: 'owner',
      owner: OPERATOR_OWNER,
      role: 'admin',
      label: 'rotated',
      ttlMs: opts.ttlDays * 24 * 3600_000,
    });
    return { token: issued.secret, revoked: revoked.length, expiresAt: issued.expiresAt };
  });
}

/** Revokes every node credential: each node must re-join with the (new) join token. */
export function revokeNodeCredentials(dataDir: string): Promise<number> {
  return withStore(dataDir, async (store) => (await store.revokeWhere({ kind: 'node' })).length);
}

/** Admits one machine: a join token bound to `hostId` (printed once; only its hash is stored). */
export function admitHost(dataDir: string, hostId: string, caps: HostCaps, ttlDays?: number): Promise<Issued> {
  return withStore(dataDir, (store) => new HostTokens(store).issue(hostId, caps, ttlDays));
}

export function listHosts(dataDir: string): Promise<AdmittedHost[]> {
  return withStore(dataDir, (store) => new HostTokens(store).list());
}

/** Revokes a host's join token and its nodes' credentials; a running server drops those nodes within seconds. */
export function revokeHost(dataDir: string, hostId: string): Promise<number> {
  return withStore(dataDir, async (store) => (await new HostTokens(store).revoke(hostId)).length);
}
