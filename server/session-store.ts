// Durable session records as the rest of the server sees them. Replica
// placement and live state live elsewhere; this is what must survive a server
// restart. SQLite implements it embedded (sqlite-session-store.ts), etcd
// replicated (store/etcd-session-store.ts); both pass one contract suite
// (test/integration/session-store-contract.test.ts).
import { randomUUID } from 'node:crypto';
import { LIMITS } from '../protocol/limits.js';
import { AppRefSchema, IdSchema, type AppRef } from '../protocol/session.js';
import { BadRequestError, QuotaExceededError } from './errors.js';

export interface SessionRecord {
  id: string;
  owner: string;
  app: AppRef;
  replicationFactor: number;
  width: number;
  height: number;
  createdAt: number;
  /** null while the session is open. */
  closedAt: number | null;
}

/** `id` defaults to a random UUID, `createdAt` to now. */
export type NewSession = Omit<SessionRecord, 'id' | 'createdAt' | 'closedAt'> & { id?: string; createdAt?: number };

export interface SessionStoreOptions {
  now?: () => number;
  /** Open sessions one owner may hold; create() refuses beyond it. */
  maxOpenSessionsPerOwner?: number;
}

export interface SessionStore {
  /** Checks the record and the owner's quota and inserts it in one transaction (ConflictError if the id exists). */
  create(s: NewSession): Promise<SessionRecord>;
  get(id: string): Promise<SessionRecord | null>;
  /** Open sessions, oldest first. */
  list(): Promise<SessionRecord[]>;
  /** Open sessions of one owner, oldest first. */
  listByOwner(owner: string): Promise<SessionRecord[]>;
  countOpenByOwner(owner: string): Promise<number>;
  /** Marks the session closed; closing a closed session keeps its first closedAt. NotFoundError if unknown. */
  close(id: string, closedAt?: number): Promise<SessionRecord>;
}

/** The record create() stores for `s`, validated (BadRequestError on a bad field). */
export function newSessionRecord(s: NewSession, now: number): SessionRecord {
  const record: SessionRecord = {
    id: s.id ?? randomUUID(),
    owner: s.owner,
    app: { name: s.app.name, hash: s.app.hash },
    replicationFactor: s.replicationFactor,
    width: s.width,
    height: s.height,
    createdAt: s.createdAt ?? now,
    closedAt: null,
  };
  validate(record);
  return record;
}

/** Throws QuotaExceededError when the owner already holds `open` sessions out of `max`. */
export function requireQuota(owner: string, open: number, max: number): void {
  if (open >= max) throw new QuotaExceededError(`owner already has ${open} open sessions`, { owner, open, max });
}

/** Oldest first, ties by id: the order list() and listByOwner() promise. */
export function byCreation(a: SessionRecord, b: SessionRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function defaultMaxOpenSessions(options: SessionStoreOptions): number {
  return options.maxOpenSessionsPerOwner ?? LIMITS.maxSessionsPerOwner;
}

function validate(s: SessionRecord): void {
  const ctx = { sessionId: s.id, owner: s.owner };
  if (!IdSchema.safeParse(s.id).success) throw new BadRequestError('invalid session id', ctx);
  if (typeof s.owner !== 'string' || s.owner.length === 0 || s.owner.length > LIMITS.maxIdLength) {
    throw new BadRequestError('invalid owner', ctx);
  }
  if (!AppRefSchema.safeParse(s.app).success)
    throw new BadRequestError('invalid app reference', { ...ctx, app: s.app });
  const ints: Array<[string, number, number, number]> = [
    ['replicationFactor', s.replicationFactor, 1, LIMITS.maxReplicationFactor],
    ['width', s.width, LIMITS.minViewport, LIMITS.maxViewportWidth],
    ['height', s.height, LIMITS.minViewport, LIMITS.maxViewportHeight],
  ];
  for (const [name, value, min, max] of ints) {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new BadRequestError(`${name} must be an integer in [${min}, ${max}]`, { ...ctx, [name]: value });
    }
  }
}
