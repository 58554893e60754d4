// SqliteInputLog, database schema and SessionStore against real SQLite files.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import { LATEST_SCHEMA_VERSION, openDatabase, schemaVersion } from '../../server/database.js';
import {
  BadRequestError,
  ConflictError,
  CorruptInputError,
  NotFoundError,
  OutOfRangeError,
  QuotaExceededError,
  SchemaError,
  UnsafeTruncationError,
} from '../../server/errors.js';
import { COMPACTED_SEQ, type AppendRequest } from '../../server/input-log.js';
import { SessionStore } from '../../server/session-store.js';
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
  it('assigns dense seqs in request order and reads them back', async (t) => {
    const { log } = openLog(t);
    const results = await log.appendBatch([req('s1', 'c1', 0), req('s1', 'c1', 1), req('s1', 'c1', 2)]);
    assert.deepEqual(
      results.map((r) => [r.input.seq, r.duplicate]),
      [
        [1, false],
        [2, false],
        [3, false],
      ],
    );
    const more = await log.appendBatch([req('s1', 'c1', 3)]);
    assert.equal(more[0]?.input.seq, 4);
    const read = await log.read('s1', 1, 100, 100);
    assert.deepEqual(
      read.map((i) => [i.seq, i.clientSeq, i.time]),
      [
        [1, 0, 1000],
        [2, 1, 1001],
        [3, 2, 1002],
        [4, 3, 1003],
      ],
    );
    assert.deepEqual(read[0]?.event, key('a'));
    assert.equal(await log.headSeq('s1'), 4);
    assert.equal(await log.headSeq('other'), 0);
    assert.equal(await log.lastClientSeq('s1', 'c1'), 3);
    assert.equal(await log.lastClientSeq('s1', 'nobody'), -1);
  });

  it('is idempotent by (session, client, clientSeq)', async (t) => {
    const { log } = openLog(t);
    const [first] = await log.appendBatch([req('s1', 'c1', 0, 111)]);
    await log.appendBatch([req('s1', 'c1', 1)]);
    // Same key again, with a different time and event: the original comes back.
    const again = await log.appendBatch([{ ...req('s1', 'c1', 0, 999), event: key('z') }]);
    assert.equal(again[0]?.duplicate, true);
    assert.deepEqual(again[0]?.input, first?.input);
    assert.equal(await log.headSeq('s1'), 2);
    // A duplicate inside one batch does not consume a seq either.
    const batch = await log.appendBatch([req('s1', 'c1', 2), req('s1', 'c1', 2), req('s1', 'c1', 3)]);
    assert.deepEqual(
      batch.map((r) => [r.input.seq, r.duplicate]),
      [
        [3, false],
        [3, true],
        [4, false],
      ],
    );
    assert.equal((await log.read('s1', 1, 100, 100)).length, 4);
  });

  it('interleaves two clients and keeps sessions independent', async (t) => {
    const { log } = openLog(t);
    const results = await log.appendBatch([
      req('s1', 'a', 0),
      req('s1', 'b', 0),
      req('s2', 'a', 0),
      req('s1', 'a', 1),
      req('s1', 'b', 1),
      req('s2', 'a', 1),
    ]);
    assert.deepEqual(
      results.map((r) => r.input.seq),
      [1, 2, 1, 3, 4, 2],
    );
    assert.deepEqual(
      (await log.read('s1', 1, 10, 10)).map((i) => `${i.clientId}:${i.clientSeq}`),
      ['a:0', 'b:0', 'a:1', 'b:1'],
    );
    assert.equal(await log.headSeq('s1'), 4);
    assert.equal(await log.headSeq('s2'), 2);
    assert.equal(await log.lastClientSeq('s1', 'b'), 1);
  });

  it('treats a clientSeq below the client last as a replay, never as new', async (t) => {
    const { log } = openLog(t);
    await log.appendBatch([req('s1', 'c1', 0), req('s1', 'c1', 5)]);
    const [late] = await log.appendBatch([req('s1', 'c1', 3)]);
    assert.equal(late?.duplicate, true);
    assert.equal(late?.input.seq, COMPACTED_SEQ);
    assert.equal(await log.headSeq('s1'), 2);
  });

  it('reads inclusive ranges with limits', async (t) => {
    const { log } = openLog(t);
    await log.appendBatch(Array.from({ length: 50 }, (_, i) => req('s1', 'c1', i)));
    const seqs = async (from: number, to: number, limit: number): Promise<number[]> =>
      (await log.read('s1', from, to, limit)).map((i) => i.seq);
    assert.deepEqual(await seqs(10, 14, 100), [10, 11, 12, 13, 14]);
    assert.deepEqual(await seqs(10, 40, 3), [10, 11, 12]);
    assert.deepEqual(await seqs(48, 1000, 100), [48, 49, 50]);
    assert.deepEqual(await seqs(51, 60, 10), []);
    assert.deepEqual(await seqs(20, 10, 10), []);
    assert.deepEqual(await seqs(1, 50, 0), []);
    assert.deepEqual(await log.read('nope', 1, 50, 10), []);
    await assert.rejects(() => log.read('s1', 1.5, 3, 10), BadRequestError);
    await assert.rejects(() => log.read('s1', 1, 3, -1), BadRequestError);
  });

  it('stores snapshots and returns the latest', async (t) => {
    const { log } = openLog(t);
    await log.appendBatch(Array.from({ length: 20 }, (_, i) => req('s1', 'c1', i)));
    assert.equal(await log.latestSnapshot('s1'), null);
    await log.putSnapshot({ sessionId: 's1', seq: 5, stateHash: 'h5', data: Buffer.from('five') });
    await log.putSnapshot({ sessionId: 's1', seq: 12, stateHash: 'h12', data: Buffer.from([0, 1, 2, 255]) });
    await log.putSnapshot({ sessionId: 's1', seq: 12, stateHash: 'h12', data: Buffer.from([0, 1, 2, 255]) }); // idempotent
    const latest = await log.latestSnapshot('s1');
    assert.equal(latest?.seq, 12);
    assert.equal(latest?.stateHash, 'h12');
    assert.deepEqual(latest?.data, Buffer.from([0, 1, 2, 255]));
    assert.equal(typeof latest?.createdAt, 'number');
    await assert.rejects(
      () => log.putSnapshot({ sessionId: 's1', seq: 12, stateHash: 'other', data: Buffer.from('x') }),
      ConflictError,
    );
    await assert.rejects(
      () => log.putSnapshot({ sessionId: 's1', seq: 21, stateHash: 'h', data: Buffer.alloc(0) }),
      OutOfRangeError,
    );
    assert.equal(await log.latestSnapshot('s2'), null);
  });

  it('truncates behind a snapshot and keeps head and lastClientSeq', async (t) => {
    const { log } = openLog(t);
    await log.appendBatch(Array.from({ length: 10 }, (_, i) => req('s1', i % 2 ? 'b' : 'a', Math.floor(i / 2))));
    await assert.rejects(() => log.truncateThrough('s1', 5), UnsafeTruncationError);
    await log.putSnapshot({ sessionId: 's1', seq: 10, stateHash: 'h10', data: Buffer.from('all') });
    assert.equal(await log.truncateThrough('s1', 10), 10);
    assert.equal((await log.read('s1', 1, 100, 100)).length, 0);
    assert.equal(await log.headSeq('s1'), 10);
    assert.equal(await log.lastClientSeq('s1', 'a'), 4);
    assert.equal(await log.lastClientSeq('s1', 'b'), 4);
    // Replays of truncated inputs are recognised, and seqs continue, never reused.
    const [replay, fresh] = await log.appendBatch([req('s1', 'a', 2), req('s1', 'a', 5)]);
    assert.deepEqual([replay?.duplicate, replay?.input.seq], [true, COMPACTED_SEQ]);
    assert.deepEqual([fresh?.duplicate, fresh?.input.seq], [false, 11]);
  });

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

describe('SessionStore', () => {
  const app = { name: 'writer', hash: '0123456789abcdef' };

  function openStore(t: TestContext, maxOpenSessionsPerOwner?: number): SessionStore {
    const db = openDatabase(join(makeTmpDir(t), 'sessions.sqlite'));
    t.after(() => db.close());
    let clock = 1000;
    return SessionStore.open(db, {
      now: () => clock++,
      ...(maxOpenSessionsPerOwner ? { maxOpenSessionsPerOwner } : {}),
    });
  }

  it('creates, gets, lists open sessions and closes them', (t) => {
    const store = openStore(t);
    const a = store.create({ id: 'sa', owner: 'alice', app, replicationFactor: 3, width: 1280, height: 720 });
    assert.deepEqual(a, {
      id: 'sa',
      owner: 'alice',
      app,
      replicationFactor: 3,
      width: 1280,
      height: 720,
      createdAt: 1000,
      closedAt: null,
    });
    store.create({ id: 'sb', owner: 'alice', app, replicationFactor: 1, width: 800, height: 600 });
    const c = store.create({ owner: 'bob', app, replicationFactor: 2, width: 800, height: 600 });
    assert.match(c.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(store.get('sa'), a);
    assert.equal(store.get('missing'), null);
    assert.deepEqual(
      store.list().map((s) => s.id),
      ['sa', 'sb', c.id],
    );
    assert.equal(store.countOpenByOwner('alice'), 2);
    const closed = store.close('sa', 5000);
    assert.equal(closed.closedAt, 5000);
    assert.equal(store.close('sa', 6000).closedAt, 5000);
    assert.deepEqual(
      store.listByOwner('alice').map((s) => s.id),
      ['sb'],
    );
    assert.equal(store.countOpenByOwner('alice'), 1);
    assert.equal(store.get('sa')?.closedAt, 5000);
    assert.throws(() => store.close('missing'), NotFoundError);
  });

  it('rejects duplicates, bad fields and owners over quota', (t) => {
    const store = openStore(t, 2);
    const base = { owner: 'alice', app, replicationFactor: 3, width: 1280, height: 720 };
    store.create({ ...base, id: 's1' });
    assert.throws(() => store.create({ ...base, id: 's1' }), ConflictError);
    assert.throws(() => store.create({ ...base, id: 'bad id!' }), BadRequestError);
    assert.throws(() => store.create({ ...base, replicationFactor: 0 }), BadRequestError);
    assert.throws(() => store.create({ ...base, width: 10 }), BadRequestError);
    assert.throws(() => store.create({ ...base, app: { name: 'Writer', hash: 'xyz' } }), BadRequestError);
    store.create({ ...base, id: 's2' });
    assert.throws(() => store.create({ ...base, id: 's3' }), QuotaExceededError);
    store.close('s1');
    store.create({ ...base, id: 's3' });
  });
});
