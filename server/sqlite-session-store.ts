// SessionStore in the server's SQLite database (the `sessions` table): the
// single-server default.
import type { Statement } from 'better-sqlite3';
import { schemaVersion, type SqliteDatabase } from './database.js';
import { ConflictError, NotFoundError, SchemaError } from './errors.js';
import { settle } from './settle.js';
import {
  defaultMaxOpenSessions,
  newSessionRecord,
  requireQuota,
  type NewSession,
  type SessionRecord,
  type SessionStore,
  type SessionStoreOptions,
} from './session-store.js';

const REQUIRED_SCHEMA_VERSION = 1;

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

export class SqliteSessionStore implements SessionStore {
  readonly #now: () => number;
  readonly #maxOpenPerOwner: number;
  readonly #insert: Statement<[string, string, string, string, number, number, number, number]>;
  readonly #getOne: Statement<[string], SessionRow>;
  readonly #listOpen: Statement<[], SessionRow>;
  readonly #listByOwner: Statement<[string], SessionRow>;
  readonly #countOpen: Statement<[string], { n: number }>;
  readonly #close: Statement<[number, string]>;
  readonly #createTx: (s: SessionRecord) => SessionRecord;

  private constructor(db: SqliteDatabase, options: SessionStoreOptions) {
    this.#now = options.now ?? Date.now;
    this.#maxOpenPerOwner = defaultMaxOpenSessions(options);
    this.#insert = db.prepare(
      'INSERT INTO sessions (id, owner, app_name, app_hash, replication_factor, width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#getOne = db.prepare(`SELECT ${COLUMNS} FROM sessions WHERE id = ?`);
    this.#listOpen = db.prepare(`SELECT ${COLUMNS} FROM sessions WHERE closed_at IS NULL ORDER BY created_at, id`);
    this.#listByOwner = db.prepare(
      `SELECT ${COLUMNS} FROM sessions WHERE owner = ? AND closed_at IS NULL ORDER BY created_at, id`,
    );
    this.#countOpen = db.prepare('SELECT count(*) AS n FROM sessions WHERE owner = ? AND closed_at IS NULL');
    this.#close = db.prepare('UPDATE sessions SET closed_at = ? WHERE id = ? AND closed_at IS NULL');
    // Quota check and insert in one write transaction: no over-quota race between connections.
    const create = db.transaction((s: SessionRecord) => this.#createInTx(s));
    this.#createTx = (s) => create.immediate(s);
  }

  static open(db: SqliteDatabase, options: SessionStoreOptions = {}): SqliteSessionStore {
    const version = schemaVersion(db);
    if (version < REQUIRED_SCHEMA_VERSION) {
      throw new SchemaError(`session store needs schema v${REQUIRED_SCHEMA_VERSION}, database is v${version}`, {
        version,
        required: REQUIRED_SCHEMA_VERSION,
      });
    }
    return new SqliteSessionStore(db, options);
  }

  create(s: NewSession): Promise<SessionRecord> {
    return settle(() => this.#createTx(newSessionRecord(s, this.#now())));
  }

  get(id: string): Promise<SessionRecord | null> {
    return settle(() => {
      const row = this.#getOne.get(id);
      return row ? toRecord(row) : null;
    });
  }

  list(): Promise<SessionRecord[]> {
    return settle(() => this.#listOpen.all().map(toRecord));
  }

  listByOwner(owner: string): Promise<SessionRecord[]> {
    return settle(() => this.#listByOwner.all(owner).map(toRecord));
  }

  countOpenByOwner(owner: string): Promise<number> {
    return settle(() => this.#countOpen.get(owner)?.n ?? 0);
  }

  close(id: string, closedAt: number = this.#now()): Promise<SessionRecord> {
    return settle(() => {
      this.#close.run(closedAt, id);
      const row = this.#getOne.get(id);
      if (!row) throw new NotFoundError(`session ${id} does not exist`, { sessionId: id });
      return toRecord(row);
    });
  }

  #createInTx(s: SessionRecord): SessionRecord {
    if (this.#getOne.get(s.id)) throw new ConflictError(`session ${s.id} already exists`, { sessionId: s.id });
    requireQuota(s.owner, this.#countOpen.get(s.owner)?.n ?? 0, this.#maxOpenPerOwner);
    this.#insert.run(s.id, s.owner, s.app.name, s.app.hash, s.replicationFactor, s.width, s.height, s.createdAt);
    return s;
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
