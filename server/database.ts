// The server's SQLite database: opening it with the settings durability relies
// on, and a versioned schema (PRAGMA user_version) built from an append-only
// list of migrations. Modules that need tables add a migration at the end of
// MIGRATIONS; never edit one that has shipped.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CorruptDatabaseError, DatabaseError, SchemaError } from './errors.js';
import { getLogger } from '../protocol/logger.js';

const log = getLogger('database');

export type SqliteDatabase = BetterSqlite3.Database;

export interface Migration {
  /** 1, 2, 3, ... in order, no gaps: the value PRAGMA user_version holds once applied. */
  readonly version: number;
  readonly name: string;
  readonly up: string | ((db: SqliteDatabase) => void);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, inputs, snapshots, heads',
    // STRICT: a wrongly typed bind fails loudly instead of storing '3' next to 3.
    // No foreign key from inputs to sessions: the input log is usable (and
    // replaceable by a distributed backend) without the session table.
    up: `
      CREATE TABLE sessions (
        id                 TEXT PRIMARY KEY,
        owner              TEXT NOT NULL,
        app_name           TEXT NOT NULL,
        app_hash           TEXT NOT NULL,
        replication_factor INTEGER NOT NULL,
        width              INTEGER NOT NULL,
        height             INTEGER NOT NULL,
        created_at         INTEGER NOT NULL,
        closed_at          INTEGER
      ) STRICT;
      CREATE INDEX sessions_owner_open ON sessions (owner) WHERE closed_at IS NULL;

      CREATE TABLE inputs (
        session_id TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        time       INTEGER NOT NULL,
        client_id  TEXT NOT NULL,
        client_seq INTEGER NOT NULL,
        event      TEXT NOT NULL,
        PRIMARY KEY (session_id, seq),
        UNIQUE (session_id, client_id, client_seq)
      ) STRICT;

      CREATE TABLE snapshots (
        session_id TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        state_hash TEXT NOT NULL,
        data       BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, seq)
      ) STRICT;

      -- Head seq and per-client last clientSeq live outside 'inputs' so they
      -- survive truncation: seqs are never reused, replays stay recognisable.
      CREATE TABLE session_heads (
        session_id TEXT PRIMARY KEY,
        head_seq   INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE client_seqs (
        session_id      TEXT NOT NULL,
        client_id       TEXT NOT NULL,
        last_client_seq INTEGER NOT NULL,
        PRIMARY KEY (session_id, client_id)
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'tokens (owner, share links, node credentials)',
    // Only sha256 digests of secrets are stored; lookups go by digest (unique index).
    up: `
      CREATE TABLE tokens (
        id          TEXT PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('owner', 'share', 'node')),
        owner       TEXT NOT NULL,
        session_id  TEXT,
        node_id     TEXT,
        role        TEXT NOT NULL CHECK (role IN ('admin', 'control', 'view', 'node')),
        label       TEXT NOT NULL,
        hash        TEXT NOT NULL UNIQUE,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        revoked_at  INTEGER
      ) STRICT;
      CREATE INDEX tokens_owner_kind ON tokens (owner, kind) WHERE revoked_at IS NULL;
      CREATE INDEX tokens_node ON tokens (node_id) WHERE node_id IS NOT NULL AND revoked_at IS NULL;
    `,
  },
  {
    version: 3,
    name: 'per-host join tokens: host id, operator caps, and the token a node credential descends from',
    // A CHECK cannot be altered in SQLite: the table is rebuilt with the new kind.
    up: `
      CREATE TABLE tokens_v3 (
        id           TEXT PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('owner', 'share', 'node', 'host')),
        owner        TEXT NOT NULL,
        session_id   TEXT,
        node_id      TEXT,
        host_id      TEXT,
        max_replicas INTEGER,
        max_cores    INTEGER,
        parent_id    TEXT,
        role         TEXT NOT NULL CHECK (role IN ('admin', 'control', 'view', 'node')),
        label        TEXT NOT NULL,
        hash         TEXT NOT NULL UNIQUE,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        revoked_at   INTEGER
      ) STRICT;
      INSERT INTO tokens_v3 (id, kind, owner, session_id, node_id, role, label, hash, created_at, expires_at, revoked_at)
        SELECT id, kind, owner, session_id, node_id, role, label, hash, created_at, expires_at, revoked_at FROM tokens;
      DROP TABLE tokens;
      ALTER TABLE tokens_v3 RENAME TO tokens;
      CREATE INDEX tokens_owner_kind ON tokens (owner, kind) WHERE revoked_at IS NULL;
      CREATE INDEX tokens_node ON tokens (node_id) WHERE node_id IS NOT NULL AND revoked_at IS NULL;
      CREATE INDEX tokens_host ON tokens (host_id) WHERE host_id IS NOT NULL AND revoked_at IS NULL;
    `,
  },
  {
    version: 4,
    name: "server keys: this server's own random MAC keys (replica tickets in the single-server mode)",
    up: `
      CREATE TABLE server_keys (
        name       TEXT PRIMARY KEY,
        key        BLOB NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
];

export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.length;

export interface OpenDatabaseOptions {
  /** How long a writer waits for another connection's lock before SQLITE_BUSY (ms). */
  busyTimeoutMs?: number;
  /** Defaults to MIGRATIONS; tests may pass a prefix. */
  migrations?: readonly Migration[];
  /** Run `PRAGMA quick_check` before use (default true): a damaged file stops the start. */
  check?: boolean;
  /** Leave the schema as it is (operator tools that only read or copy the file). */
  skipMigrations?: boolean;
}

/**
 * SQLite's own consistency check: `quick` (every page and record well-formed,
 * O(N)) at every open; `full` (integrity_check: also every index against its
 * table) for `lockstep db check`. Returns the problems found, [] when intact.
 */
export function checkDatabase(db: SqliteDatabase, depth: 'quick' | 'full'): string[] {
  let rows: Record<string, unknown>[];
  try {
    rows = db.pragma(depth === 'quick' ? 'quick_check(100)' : 'integrity_check(100)') as Record<string, unknown>[];
  } catch (err) {
    // SQLITE_CORRUPT / SQLITE_NOTADB can surface as an exception rather than a report.
    return [err instanceof Error ? err.message : String(err)];
  }
  const lines = rows.map((r) => String(Object.values(r)[0]));
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
}

function assertIntact(db: SqliteDatabase, file: string, depth: 'quick' | 'full'): void {
  const problems = checkDatabase(db, depth);
  if (problems.length === 0) return;
  throw new CorruptDatabaseError(
    `database ${file} is damaged (${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}). ` +
      'Lockstep will not start on it: stop anything using the file, move it aside, and restore the latest ' +
      '`lockstep db backup` copy in its place (or start with an empty data directory). `lockstep db check` lists every problem.',
    { file, problems: problems.slice(0, 20) },
  );
}

/**
 * Opens (creating if needed) a SQLite file in WAL mode with synchronous=FULL:
 * every commit fsyncs the WAL, so a transaction that returned survives a crash
 * of the process or the machine. Then applies pending migrations.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory) mkdirSync(dirname(file), { recursive: true });
  let db: SqliteDatabase;
  try {
    db = new BetterSqlite3(file);
  } catch (err) {
    throw new DatabaseError(`cannot open database ${file}`, { file }, { cause: err });
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (!inMemory && String(mode).toLowerCase() !== 'wal') {
      throw new DatabaseError(`database ${file} refused WAL mode (got ${String(mode)})`, { file, mode });
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    if (!inMemory && options.check !== false) assertIntact(db, file, 'quick');
    if (options.skipMigrations !== true) migrate(db, options.migrations ?? MIGRATIONS);
  } catch (err) {
    db.close();
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
      throw new CorruptDatabaseError(
        `database ${file} is damaged (${code}). Lockstep will not start on it: move it aside and restore the latest \`lockstep db backup\` copy (or start with an empty data directory).`,
        { file, code },
        { cause: err },
      );
    }
    throw err;
  }
  return db;
}

export function schemaVersion(db: SqliteDatabase): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/** Applies every migration newer than the file's user_version, each in its own transaction. Returns the resulting version. */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[] = MIGRATIONS): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new SchemaError(`migration list out of order at index ${i}`, {
        index: i,
        version: m.version,
        name: m.name,
      });
    }
  });
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new SchemaError(`database schema v${current} is newer than this code (v${migrations.length})`, {
      current,
      known: migrations.length,
    });
  }
  for (const m of migrations.slice(current)) {
    const apply = db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      // user_version is part of the database header, so it commits atomically with the DDL.
      db.pragma(`user_version = ${m.version}`);
    });
    try {
      apply.immediate();
    } catch (err) {
      throw new SchemaError(
        `migration ${m.version} (${m.name}) failed`,
        { version: m.version, name: m.name },
        { cause: err },
      );
    }
    log.info({ version: m.version, name: m.name }, 'applied migration');
  }
  return schemaVersion(db);
}
