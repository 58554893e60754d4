// Durable session records (the `sessions` table). Replica placement and live
// state live elsewhere; this is what must survive a server restart.
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { LIMITS } from '../protocol/limits.js';
import { AppRefSchema, IdSchema, type AppRef } from '../protocol/session.js';
import { schemaVersion, type SqliteDatabase } from './database.js';
import { BadRequestError, ConflictError, NotFoundError, QuotaExceededError, SchemaError } from './errors.js';

const REQUIRED_SCHEMA_VERSION = 1;

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

interface SessionRow {
  id: string;
  owner: string;
  app_name: string;
  app_hash: string;
  replication_factor: number;
  width: number;
  height: number;
  created_at: number;
  closed_at: number | null;
}

const COLUMNS = 'id, owner, app_name, app_hash, replication_factor, width, height, created_at, closed_at';

export class SessionStore {
  private readonly now: () => number;
  private readonly maxOpenPerOwner: number;
  private readonly insert: Statement<[string, string, string, string, number, number, number, number]>;
  private readonly getOne: Statement<[string], SessionRow>;
  private readonly listOpenStmt: Statement<[], SessionRow>;
  private readonly listByOwnerStmt: Statement<[string], SessionRow>;
  private readonly countOpenStmt: Statement<[string], { n: number }>;
  private readonly closeStmt: Statement<[number, string]>;
  private readonly createTx: (s: SessionRecord) => SessionRecord;

  private constructor(db: SqliteDatabase, options: SessionStoreOptions) {
    this.now = options.now ?? Date.now;
    this.maxOpenPerOwner = options.maxOpenSessionsPerOwner ?? LIMITS.maxSessionsPerOwner;
    this.insert = db.prepare(
      'INSERT INTO sessions (id, owner, app_name, app_hash, replication_factor, width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.getOne = db.prepare(`SELECT ${COLUMNS} FROM sessions WHERE id = ?`);
    this.listOpenStmt = db.prepare(`SELECT ${COLUMNS} FROM sessions WHERE closed_at IS NULL ORDER BY created_at, id`);
    this.listByOwnerStmt = db.prepare(
      `SELECT ${COLUMNS} FROM sessions WHERE owner = ? AND closed_at IS NULL ORDER BY created_at, id`,
    );
    this.countOpenStmt = db.prepare('SELECT count(*) AS n FROM sessions WHERE owner = ? AND closed_at IS NULL');
    this.closeStmt = db.prepare('UPDATE sessions SET closed_at = ? WHERE id = ? AND closed_at IS NULL');
    // Quota check and insert in one write transaction: no over-quota race between connections.
    const create = db.transaction((s: SessionRecord) => this.createInTx(s));
    this.createTx = (s) => create.immediate(s);
  }

  static open(db: SqliteDatabase, options: SessionStoreOptions = {}): SessionStore {
    const version = schemaVersion(db);
    if (version < REQUIRED_SCHEMA_VERSION) {
      throw new SchemaError(`session store needs schema v${REQUIRED_SCHEMA_VERSION}, database is v${version}`, {
        version,
        required: REQUIRED_SCHEMA_VERSION,
      });
    }
    return new SessionStore(db, options);
  }

  create(s: NewSession): SessionRecord {
    const record: SessionRecord = {
      id: s.id ?? randomUUID(),
      owner: s.owner,
      app: { name: s.app.name, hash: s.app.hash },
      replicationFactor: s.replicationFactor,
      width: s.width,
      height: s.height,
      createdAt: s.createdAt ?? this.now(),
      closedAt: null,
    };
    validate(record);
    return this.createTx(record);
  }

  get(id: string): SessionRecord | null {
    const row = this.getOne.get(id);
    return row ? toRecord(row) : null;
  }

  /** Open sessions, oldest first. */
  list(): SessionRecord[] {
    return this.listOpenStmt.all().map(toRecord);
  }

  /** Open sessions of one owner, oldest first. */
  listByOwner(owner: string): SessionRecord[] {
    return this.listByOwnerStmt.all(owner).map(toRecord);
  }

  countOpenByOwner(owner: string): number {
    return this.countOpenStmt.get(owner)?.n ?? 0;
  }

  /** Marks the session closed; closing a closed session keeps its first closedAt. */
  close(id: string, closedAt: number = this.now()): SessionRecord {
    this.closeStmt.run(closedAt, id);
    const record = this.get(id);
    if (!record) throw new NotFoundError(`session ${id} does not exist`, { sessionId: id });
    return record;
  }

  private createInTx(s: SessionRecord): SessionRecord {
    if (this.getOne.get(s.id)) throw new ConflictError(`session ${s.id} already exists`, { sessionId: s.id });
    const open = this.countOpenStmt.get(s.owner)?.n ?? 0;
    if (open >= this.maxOpenPerOwner) {
      throw new QuotaExceededError(`owner already has ${open} open sessions`, {
        owner: s.owner,
        open,
        max: this.maxOpenPerOwner,
      });
    }
    this.insert.run(s.id, s.owner, s.app.name, s.app.hash, s.replicationFactor, s.width, s.height, s.createdAt);
    return s;
  }
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

function toRecord(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    owner: row.owner,
    app: { name: row.app_name, hash: row.app_hash },
    replicationFactor: row.replication_factor,
    width: row.width,
    height: row.height,
    createdAt: row.created_at,
    closedAt: row.closed_at,
  };
}
