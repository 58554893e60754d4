// InputLog on SQLite: one immediate transaction per batch (group commit), so
// the WAL is fsynced once per batch rather than once per input. better-sqlite3
// is synchronous: the async methods do their work before they return.
import type { Statement } from 'better-sqlite3';
import { InputEventSchema, type InputEvent, type SequencedInput } from '../protocol/input.js';
import { getLogger } from '../protocol/logger.js';
import { openDatabase, schemaVersion, type OpenDatabaseOptions, type SqliteDatabase } from './database.js';
import {
  ClosedError,
  CorruptInputError,
  DurabilityError,
  LockstepError,
  SchemaError,
  UnsafeTruncationError,
} from './errors.js';
import { requireInt, requireSameSnapshot, requireSnapshotArgs, requireSnapshotWithinHead } from './input-log-args.js';
import { settle } from './settle.js';
import {
  COMPACTED_SEQ,
  type AppendRequest,
  type AppendResult,
  type InputLog,
  type StoredSnapshot,
} from './input-log.js';

const log = getLogger('input-log');

/** Schema version that created the tables this class uses. */
const REQUIRED_SCHEMA_VERSION = 1;

export interface SqliteInputLogOptions {
  /** Clock for snapshot createdAt. */
  now?: () => number;
}

interface InputRow {
  seq: number;
  time: number;
  client_id: string;
  client_seq: number;
  event: string;
}

interface SnapshotRow {
  seq: number;
  state_hash: string;
  data: Buffer;
  created_at: number;
}

interface Statements {
  findByClient: Statement<[string, string, number], InputRow>;
  insertInput: Statement<[string, number, number, string, number, string]>;
  getHead: Statement<[string], { head_seq: number }>;
  setHead: Statement<[string, number]>;
  getClient: Statement<[string, string], { last_client_seq: number }>;
  setClient: Statement<[string, string, number]>;
  readRange: Statement<[string, number, number, number], InputRow>;
  getSnapshot: Statement<[string, number], SnapshotRow>;
  insertSnapshot: Statement<[string, number, string, Buffer, number]>;
  latestSnapshot: Statement<[string], SnapshotRow>;
  snapshotBefore: Statement<[string, number], SnapshotRow>;
  deleteSnapshotsBefore: Statement<[string, number]>;
  deleteSnapshot: Statement<[string, number]>;
  truncate: Statement<[string, number]>;
}

function prepare(db: SqliteDatabase): Statements {
  return {
    findByClient: db.prepare(
      'SELECT seq, time, client_id, client_seq, event FROM inputs WHERE session_id = ? AND client_id = ? AND client_seq = ?',
    ),
    insertInput: db.prepare(
      'INSERT INTO inputs (session_id, seq, time, client_id, client_seq, event) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    getHead: db.prepare('SELECT head_seq FROM session_heads WHERE session_id = ?'),
    setHead: db.prepare(
      'INSERT INTO session_heads (session_id, head_seq) VALUES (?, ?) ON CONFLICT (session_id) DO UPDATE SET head_seq = excluded.head_seq',
    ),
    getClient: db.prepare('SELECT last_client_seq FROM client_seqs WHERE session_id = ? AND client_id = ?'),
    setClient: db.prepare(
      'INSERT INTO client_seqs (session_id, client_id, last_client_seq) VALUES (?, ?, ?) ' +
        'ON CONFLICT (session_id, client_id) DO UPDATE SET last_client_seq = excluded.last_client_seq',
    ),
    readRange: db.prepare(
      'SELECT seq, time, client_id, client_seq, event FROM inputs WHERE session_id = ? AND seq BETWEEN ? AND ? ORDER BY seq LIMIT ?',
    ),
    getSnapshot: db.prepare('SELECT seq, state_hash, data, created_at FROM snapshots WHERE session_id = ? AND seq = ?'),
    insertSnapshot: db.prepare(
      'INSERT INTO snapshots (session_id, seq, state_hash, data, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    latestSnapshot: db.prepare(
      'SELECT seq, state_hash, data, created_at FROM snapshots WHERE session_id = ? ORDER BY seq DESC LIMIT 1',
    ),
    snapshotBefore: db.prepare(
      'SELECT seq, state_hash, data, created_at FROM snapshots WHERE session_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1',
    ),
    deleteSnapshotsBefore: db.prepare('DELETE FROM snapshots WHERE session_id = ? AND seq < ?'),
    deleteSnapshot: db.prepare('DELETE FROM snapshots WHERE session_id = ? AND seq = ?'),
    truncate: db.prepare('DELETE FROM inputs WHERE session_id = ? AND seq <= ?'),
  };
}

export class SqliteInputLog implements InputLog {
  private readonly db: SqliteDatabase;
  private readonly stmts: Statements;
  private readonly ownsDb: boolean;
  private readonly now: () => number;
  private readonly appendTx: (reqs: AppendRequest[]) => AppendResult[];
  private readonly putSnapshotTx: (s: Omit<StoredSnapshot, 'createdAt'>) => void;
  private closed = false;

  private constructor(db: SqliteDatabase, ownsDb: boolean, options: SqliteInputLogOptions) {
    this.db = db;
    this.ownsDb = ownsDb;
    this.now = options.now ?? Date.now;
    this.stmts = prepare(db);
    // .immediate: take the write lock up front, so a concurrent writer makes us
    // wait (busy_timeout) instead of failing mid-transaction on lock upgrade.
    const append = db.transaction((reqs: AppendRequest[]) => this.appendInTx(reqs));
    this.appendTx = (reqs) => append.immediate(reqs);
    const put = db.transaction((s: Omit<StoredSnapshot, 'createdAt'>) => this.putSnapshotInTx(s));
    this.putSnapshotTx = (s) => put.immediate(s);
  }

  /** Uses an already-open database (shared with SessionStore and others); close() leaves it open. */
  static open(db: SqliteDatabase, options: SqliteInputLogOptions = {}): SqliteInputLog {
    const version = schemaVersion(db);
    if (version < REQUIRED_SCHEMA_VERSION) {
      throw new SchemaError(`input log needs schema v${REQUIRED_SCHEMA_VERSION}, database is v${version}`, {
        version,
        required: REQUIRED_SCHEMA_VERSION,
      });
    }
    return new SqliteInputLog(db, false, options);
  }

  /** Opens its own database file (see openDatabase); close() closes it. */
  static openFile(file: string, options: SqliteInputLogOptions & OpenDatabaseOptions = {}): SqliteInputLog {
    const db = openDatabase(file, options);
    try {
      return new SqliteInputLog(db, true, options);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  appendBatch(reqs: AppendRequest[]): Promise<AppendResult[]> {
    return settle(() => {
      try {
        return this.appendBatchNow(reqs);
      } catch (err) {
        if (err instanceof LockstepError) throw err;
        // SQLITE_BUSY, disk full, I/O error: the transaction rolled back, nothing was written.
        throw new DurabilityError('input batch was not written', { requests: reqs.length }, { cause: err });
      }
    });
  }

  read(sessionId: string, fromSeq: number, toSeq: number, limit: number): Promise<SequencedInput[]> {
    return settle(() => this.readNow(sessionId, fromSeq, toSeq, limit));
  }

  headSeq(sessionId: string): Promise<number> {
    return settle(() => this.headSeqNow(sessionId));
  }

  lastClientSeq(sessionId: string, clientId: string): Promise<number> {
    return settle(() => this.lastClientSeqNow(sessionId, clientId));
  }

  putSnapshot(s: Omit<StoredSnapshot, 'createdAt'>): Promise<void> {
    return settle(() => this.putSnapshotNow(s));
  }

  latestSnapshot(sessionId: string): Promise<StoredSnapshot | null> {
    return settle(() => this.latestSnapshotNow(sessionId));
  }

  snapshotAt(sessionId: string, seq: number): Promise<StoredSnapshot | null> {
    return settle(() => this.snapshotAtNow(sessionId, seq));
  }

  snapshotBefore(sessionId: string, seq: number): Promise<StoredSnapshot | null> {
    return settle(() => this.snapshotBeforeNow(sessionId, seq));
  }

  deleteSnapshots(sessionId: string, range: { beforeSeq: number } | { onlySeq: number }): Promise<number> {
    return settle(() => this.deleteSnapshotsNow(sessionId, range));
  }

  truncateThrough(sessionId: string, uptoSeq: number): Promise<number> {
    return settle(() => this.truncateThroughNow(sessionId, uptoSeq));
  }

  ping(): Promise<void> {
    return settle(() => this.assertOpen());
  }

  close(): Promise<void> {
    return settle(() => {
      if (this.closed) return;
      this.closed = true;
      if (this.ownsDb) this.db.close();
    });
  }

  private appendBatchNow(reqs: AppendRequest[]): AppendResult[] {
    this.assertOpen();
    if (reqs.length === 0) return [];
    return this.appendTx(reqs);
  }

  private readNow(sessionId: string, fromSeq: number, toSeq: number, limit: number): SequencedInput[] {
    this.assertOpen();
    const ctx = { sessionId };
    requireInt('fromSeq', fromSeq, 0, ctx);
    requireInt('toSeq', toSeq, 0, ctx);
    requireInt('limit', limit, 0, ctx);
    if (limit === 0 || toSeq < fromSeq) return [];
    return this.stmts.readRange.all(sessionId, fromSeq, toSeq, limit).map((row) => this.toInput(sessionId, row));
  }

  private headSeqNow(sessionId: string): number {
    this.assertOpen();
    return this.stmts.getHead.get(sessionId)?.head_seq ?? 0;
  }

  private lastClientSeqNow(sessionId: string, clientId: string): number {
    this.assertOpen();
    return this.stmts.getClient.get(sessionId, clientId)?.last_client_seq ?? -1;
  }

  private putSnapshotNow(s: Omit<StoredSnapshot, 'createdAt'>): void {
    this.assertOpen();
    requireSnapshotArgs(s);
    this.putSnapshotTx(s);
  }

  private latestSnapshotNow(sessionId: string): StoredSnapshot | null {
    this.assertOpen();
    const row = this.stmts.latestSnapshot.get(sessionId);
    return row ? toSnapshot(sessionId, row) : null;
  }

  private snapshotAtNow(sessionId: string, seq: number): StoredSnapshot | null {
    this.assertOpen();
    const row = this.stmts.getSnapshot.get(sessionId, seq);
    return row ? toSnapshot(sessionId, row) : null;
  }

  private snapshotBeforeNow(sessionId: string, seq: number): StoredSnapshot | null {
    this.assertOpen();
    const row = this.stmts.snapshotBefore.get(sessionId, seq);
    return row ? toSnapshot(sessionId, row) : null;
  }

  private deleteSnapshotsNow(sessionId: string, range: { beforeSeq: number } | { onlySeq: number }): number {
    this.assertOpen();
    return 'beforeSeq' in range
      ? this.stmts.deleteSnapshotsBefore.run(sessionId, range.beforeSeq).changes
      : this.stmts.deleteSnapshot.run(sessionId, range.onlySeq).changes;
  }

  private truncateThroughNow(sessionId: string, uptoSeq: number): number {
    this.assertOpen();
    requireInt('uptoSeq', uptoSeq, 0, { sessionId });
    const snapshot = this.stmts.latestSnapshot.get(sessionId);
    // Inputs are the only copy of state not covered by a snapshot: refuse to lose them.
    if (!snapshot || snapshot.seq < uptoSeq) {
      throw new UnsafeTruncationError(`no snapshot covers seq ${uptoSeq}`, {
        sessionId,
        uptoSeq,
        latestSnapshotSeq: snapshot?.seq ?? null,
      });
    }
    const removed = this.stmts.truncate.run(sessionId, uptoSeq).changes;
    log.debug({ sessionId, uptoSeq, removed }, 'truncated input log');
    return removed;
  }

  private appendInTx(reqs: AppendRequest[]): AppendResult[] {
    // Heads and client seqs are read once per batch and written once per batch.
    const heads = new Map<string, number>();
    const clients = new Map<string, { sessionId: string; clientId: string; last: number; dirty: boolean }>();
    const results: AppendResult[] = [];
    for (const req of reqs) {
      const clientKey = `${req.sessionId}\u0000${req.clientId}`;
      let client = clients.get(clientKey);
      if (!client) {
        const stored = this.stmts.getClient.get(req.sessionId, req.clientId)?.last_client_seq ?? -1;
        client = { sessionId: req.sessionId, clientId: req.clientId, last: stored, dirty: false };
        clients.set(clientKey, client);
      }
      if (req.clientSeq <= client.last) {
        results.push(this.replay(req));
        continue;
      }
      let head = heads.get(req.sessionId);
      if (head === undefined) head = this.stmts.getHead.get(req.sessionId)?.head_seq ?? 0;
      const seq = head + 1;
      this.stmts.insertInput.run(req.sessionId, seq, req.time, req.clientId, req.clientSeq, JSON.stringify(req.event));
      heads.set(req.sessionId, seq);
      client.last = req.clientSeq;
      client.dirty = true;
      results.push({
        input: { seq, time: req.time, clientId: req.clientId, clientSeq: req.clientSeq, event: req.event },
        duplicate: false,
      });
    }
    for (const [sessionId, head] of heads) this.stmts.setHead.run(sessionId, head);
    for (const c of clients.values()) if (c.dirty) this.stmts.setClient.run(c.sessionId, c.clientId, c.last);
    return results;
  }

  private replay(req: AppendRequest): AppendResult {
    const row = this.stmts.findByClient.get(req.sessionId, req.clientId, req.clientSeq);
    if (row) return { input: this.toInput(req.sessionId, row), duplicate: true };
    // Logged once and since truncated (or skipped over by an out-of-order client).
    return {
      input: { seq: COMPACTED_SEQ, time: req.time, clientId: req.clientId, clientSeq: req.clientSeq, event: req.event },
      duplicate: true,
    };
  }

  private putSnapshotInTx(s: Omit<StoredSnapshot, 'createdAt'>): void {
    requireSnapshotWithinHead(s, this.stmts.getHead.get(s.sessionId)?.head_seq ?? 0);
    const existing = this.stmts.getSnapshot.get(s.sessionId, s.seq);
    if (existing) return requireSameSnapshot(existing.state_hash, s);
    this.stmts.insertSnapshot.run(s.sessionId, s.seq, s.stateHash, s.data, this.now());
  }

  private toInput(sessionId: string, row: InputRow): SequencedInput {
    let event: InputEvent;
    try {
      event = InputEventSchema.parse(JSON.parse(row.event));
    } catch (err) {
      throw new CorruptInputError(
        `stored input ${sessionId}#${row.seq} is not a valid InputEvent`,
        {
          sessionId,
          seq: row.seq,
        },
        { cause: err },
      );
    }
    return { seq: row.seq, time: row.time, clientId: row.client_id, clientSeq: row.client_seq, event };
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('input log is closed');
  }
}

function toSnapshot(sessionId: string, row: SnapshotRow): StoredSnapshot {
  return { sessionId, seq: row.seq, stateHash: row.state_hash, data: row.data, createdAt: row.created_at };
}
