// SqliteInputLog and the database schema against real SQLite files (the
// session store's contract suite runs on SQLite and etcd:
// test/integration/session-store-contract.test.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import { LATEST_SCHEMA_VERSION, openDatabase, schemaVersion } from '../../server/database.js';
import { CorruptInputError, SchemaError } from '../../server/errors.js';
import { COMPACTED_SEQ, type AppendRequest } from '../../server/input-log.js';
import { SqliteInputLog } from '../../server/sqlite-input-log.js';
import { makeTmpDir } from '../helpers/tmpdir.js';

function key(k: string): InputEvent {
  return { type: 'key', action: 'down', key: k, code: `Key${k.toUpperCase()}`, mods: NO_MODS };
}

function req(sessionId: string, clientId: string, clientSeq: number, time = 1000 + clientSeq): AppendRequest {
  return { sessionId, clientId, clientSeq, time, event: key(String.fromCharCode(97 + (clientSeq % 26))) };
}

function openLog(t: TestContext): { log: SqliteInputLog; file: string } {
  const file = join(makeTmpDir(t), 'lockstep.sqlite');
  const log = SqliteInputLog.openFile(file);
  t.after(() => log.close());
  return { log, file };
}

describe('SqliteInputLog', () => {
  // The store-independent rules (seqs, idempotency, ranges, snapshots, truncation,
  // failed writes, two writers) are in test/integration/input-log-contract.test.ts.
  it('keeps everything across close and reopen', async (t) => {
    const { log, file } = openLog(t);
    await log.appendBatch([req('s1', 'a', 0), req('s1', 'b', 7), req('s2', 'a', 0)]);
    await log.appendBatch([req('s1', 'a', 1)]);
    await log.putSnapshot({ sessionId: 's1', seq: 2, stateHash: 'h2', data: Buffer.from('snap') });
    await log.truncateThrough('s1', 1);
    const before = await log.read('s1', 1, 100, 100);
    await log.close();

    const reopened = SqliteInputLog.openFile(file);
    t.after(() => reopened.close());
    assert.deepEqual(await reopened.read('s1', 1, 100, 100), before);
    assert.equal(await reopened.headSeq('s1'), 3);
    assert.equal(await reopened.headSeq('s2'), 1);
    assert.equal(await reopened.lastClientSeq('s1', 'a'), 1);
    assert.equal(await reopened.lastClientSeq('s1', 'b'), 7);
    assert.equal((await reopened.latestSnapshot('s1'))?.stateHash, 'h2');
    assert.equal((await reopened.appendBatch([req('s1', 'a', 0)]))[0]?.input.seq, COMPACTED_SEQ);
    assert.equal((await reopened.appendBatch([req('s1', 'a', 2)]))[0]?.input.seq, 4);
  });

  it('opens the file in WAL mode with synchronous=FULL and the latest schema', (t) => {
    const { file } = openLog(t);
    const db = openDatabase(file);
    t.after(() => db.close());
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
    assert.equal(schemaVersion(db), LATEST_SCHEMA_VERSION);
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    for (const name of ['client_seqs', 'inputs', 'session_heads', 'sessions', 'snapshots'])
      assert.ok(tables.includes(name), name);
  });

  it('refuses a database whose schema is newer than the code', (t) => {
    const file = join(makeTmpDir(t), 'future.sqlite');
    const db = openDatabase(file);
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openDatabase(file), SchemaError);
  });

  it('raises a typed error naming session and seq for a corrupt event row', async (t) => {
    const { log, file } = openLog(t);
    await log.appendBatch([req('s1', 'c1', 0), req('s1', 'c1', 1)]);
    const db = openDatabase(file);
    t.after(() => db.close());
    db.prepare("UPDATE inputs SET event = ? WHERE session_id = 's1' AND seq = 2").run(
      '{"type":"key","action":"sideways"}',
    );
    assert.equal((await log.read('s1', 1, 1, 10)).length, 1);
    await assert.rejects(
      () => log.read('s1', 1, 10, 10),
      (err: unknown) => err instanceof CorruptInputError && err.context.sessionId === 's1' && err.context.seq === 2,
    );
    db.prepare("UPDATE inputs SET event = ? WHERE session_id = 's1' AND seq = 1").run('not json');
    // The replay path reads the stored row too.
    await assert.rejects(() => log.appendBatch([req('s1', 'c1', 0)]), CorruptInputError);
  });
});
