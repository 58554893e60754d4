// One contract, two stores: every case below runs against SqliteSessionStore
// (a real SQLite file) and EtcdSessionStore (a real 3-member etcd started here).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { openDatabase } from '../../server/database.js';
import {
  BadRequestError,
  ConflictError,
  DurabilityError,
  NotFoundError,
  QuotaExceededError,
} from '../../server/errors.js';
import type { SessionStore, SessionStoreOptions } from '../../server/session-store.js';
import { SqliteSessionStore } from '../../server/sqlite-session-store.js';
import { EtcdSessionStore } from '../../server/store/etcd-session-store.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { holdSqliteWriteLock, loseEtcdQuorum } from '../helpers/store-faults.js';
import { makeTmpDir } from '../helpers/tmpdir.js';

interface Store {
  /** A fresh, empty store, closed when the test ends. */
  open(t: TestContext, options: SessionStoreOptions): SessionStore;
  /** A second instance over the same data as the last open() (another server). */
  openSecond(t: TestContext, options: SessionStoreOptions): SessionStore;
  /** Makes the last open()'s writes fail until the returned restore() (store unreachable / locked). */
  fail(t: TestContext): Promise<() => Promise<void>>;
}

const etcd = etcdSuite();

function sqliteStore(): Store {
  let file = '';
  const open = (t: TestContext, options: SessionStoreOptions): SessionStore => {
    const db = openDatabase(file, { busyTimeoutMs: 20 });
    t.after(() => db.close());
    return SqliteSessionStore.open(db, options);
  };
  return {
    open(t, options) {
      file = join(makeTmpDir(t), 'sessions.sqlite');
      return open(t, options);
    },
    openSecond: open,
    fail(t) {
      return Promise.resolve(holdSqliteWriteLock(t, file));
    },
  };
}

function etcdStore(): Store {
  let namespace = '';
  const open = (_t: TestContext, options: SessionStoreOptions): SessionStore =>
    new EtcdSessionStore(etcd.client(), { ...options, namespace });
  return {
    open(t, options) {
      namespace = `test-${randomBytes(4).toString('hex')}/`;
      return open(t, options);
    },
    openSecond: open,
    fail(t) {
      return loseEtcdQuorum(t, etcd.cluster());
    },
  };
}

const app = { name: 'writer', hash: '0123456789abcdef' };

for (const [name, store] of [
  ['SqliteSessionStore', sqliteStore()],
  ['EtcdSessionStore', etcdStore()],
] as const) {
  describe(`SessionStore contract: ${name}`, () => {
    const clocked = (): SessionStoreOptions => {
      let clock = 1000;
      return { now: () => clock++ };
    };

    it('creates, gets, lists open sessions and closes them', async (t) => {
      const s = store.open(t, clocked());
      const a = await s.create({ id: 'sa', owner: 'alice', app, replicationFactor: 3, width: 1280, height: 720 });
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
      await s.create({ id: 'sb', owner: 'alice', app, replicationFactor: 1, width: 800, height: 600 });
      const c = await s.create({ owner: 'bob', app, replicationFactor: 2, width: 800, height: 600 });
      assert.match(c.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(await s.get('sa'), a);
      assert.equal(await s.get('missing'), null);
      assert.deepEqual(
        (await s.list()).map((r) => r.id),
        ['sa', 'sb', c.id],
      );
      assert.equal(await s.countOpenByOwner('alice'), 2);
      assert.equal((await s.close('sa', 5000)).closedAt, 5000);
      assert.equal((await s.close('sa', 6000)).closedAt, 5000, 'the first closedAt stays');
      assert.deepEqual(
        (await s.listByOwner('alice')).map((r) => r.id),
        ['sb'],
      );
      assert.deepEqual(
        (await s.list()).map((r) => r.id),
        ['sb', c.id],
      );
      assert.equal(await s.countOpenByOwner('alice'), 1);
      assert.equal((await s.get('sa'))?.closedAt, 5000);
      await assert.rejects(() => s.close('missing'), NotFoundError);
    });

    it('refuses duplicates, bad fields and owners over quota', async (t) => {
      const s = store.open(t, { maxOpenSessionsPerOwner: 2 });
      const base = { owner: 'alice', app, replicationFactor: 3, width: 1280, height: 720 };
      await s.create({ ...base, id: 's1' });
      await assert.rejects(() => s.create({ ...base, id: 's1' }), ConflictError);
      await assert.rejects(() => s.create({ ...base, id: 'bad id!' }), BadRequestError);
      await assert.rejects(() => s.create({ ...base, replicationFactor: 0 }), BadRequestError);
      await assert.rejects(() => s.create({ ...base, width: 10 }), BadRequestError);
      await assert.rejects(() => s.create({ ...base, app: { name: 'Writer', hash: 'xyz' } }), BadRequestError);
      await s.create({ ...base, id: 's2' });
      await assert.rejects(() => s.create({ ...base, id: 's3' }), QuotaExceededError);
      await s.create({ ...base, owner: 'bob', id: 's4' });
      await s.close('s1');
      await s.create({ ...base, id: 's3' });
      assert.equal(await s.countOpenByOwner('alice'), 2);
    });

    it('two instances (two servers) see each other’s sessions and never exceed a quota together', async (t) => {
      const a = store.open(t, { maxOpenSessionsPerOwner: 3 });
      const b = store.openSecond(t, { maxOpenSessionsPerOwner: 3 });
      const base = { owner: 'carol', app, replicationFactor: 2, width: 800, height: 600 };
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).create({ ...base, id: `c${i}` })),
      );
      const made = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(made, 3, 'exactly the quota was created');
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(r.reason instanceof QuotaExceededError, String(r.reason));
      }
      assert.equal((await b.listByOwner('carol')).length, 3);
      const first = (await a.listByOwner('carol'))[0];
      assert.ok(first);
      await b.close(first.id, 7000);
      assert.equal((await a.get(first.id))?.closedAt, 7000, 'a close through one is seen by the other');
      assert.equal(await a.countOpenByOwner('carol'), 2);
    });

    it('a write the store cannot make is refused, and the store serves again once it can', async (t) => {
      const s = store.open(t, {});
      await s.create({ id: 'kept', owner: 'dan', app, replicationFactor: 2, width: 800, height: 600 });
      const restore = await store.fail(t);
      await assert.rejects(
        () => s.create({ id: 'lost', owner: 'dan', app, replicationFactor: 2, width: 800, height: 600 }),
        (err: unknown) => err instanceof Error && (name === 'SqliteSessionStore' || err instanceof DurabilityError),
      );
      await assert.rejects(() => s.close('kept'));
      await restore();
      if (name === 'SqliteSessionStore') {
        // A refused SQLite transaction never happened.
        assert.equal(await s.get('lost'), null);
        assert.equal((await s.get('kept'))?.closedAt, null);
      }
      // etcd: a request that timed out without quorum may still commit when quorum returns
      // (unknown outcome, never acknowledged); the caller was told it failed.
      const next = await s.create({ id: 'next', owner: 'dan', app, replicationFactor: 2, width: 800, height: 600 });
      assert.deepEqual(await s.get('next'), next);
    });
  });
}
