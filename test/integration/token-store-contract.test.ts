// One contract, two stores: every case below runs against SqliteTokenStore (a
// real SQLite file) and EtcdTokenStore (a real 3-member etcd started here).
// The second instance stands for another server: what one revokes, the other
// refuses at its next lookup.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { openDatabase } from '../../server/database.js';
import { DurabilityError } from '../../server/errors.js';
import { HostTokens } from '../../server/host-tokens.js';
import { SqliteTokenStore } from '../../server/sqlite-token-store.js';
import { EtcdTokenStore } from '../../server/store/etcd-token-store.js';
import { PURGE_AFTER_MS, type TokenStore } from '../../server/token-store.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { holdSqliteWriteLock, loseEtcdQuorum } from '../helpers/store-faults.js';
import { makeTmpDir } from '../helpers/tmpdir.js';

const DAY = 24 * 3600_000;

interface Store {
  /** A fresh, empty store on `now`, closed when the test ends. */
  open(t: TestContext, now?: () => number): TokenStore;
  /** A second instance over the same data as the last open() (another server). */
  openSecond(t: TestContext, now?: () => number): TokenStore;
  /** Everything the last open()'s data holds, as text (to look for secrets at rest). */
  dump(): Promise<string>;
  /** Makes writes fail until the returned restore() (store unreachable / locked). */
  fail(t: TestContext): Promise<() => Promise<void>>;
}

const etcd = etcdSuite();

function sqliteStore(): Store {
  let file = '';
  const open = (t: TestContext, now?: () => number): TokenStore => {
    const db = openDatabase(file, { busyTimeoutMs: 20 });
    t.after(() => db.close());
    return new SqliteTokenStore(db, now);
  };
  return {
    open(t, now) {
      file = join(makeTmpDir(t), 'tokens.sqlite');
      return open(t, now);
    },
    openSecond: open,
    dump() {
      const db = openDatabase(file);
      try {
        return Promise.resolve(JSON.stringify(db.prepare('SELECT * FROM tokens').all()));
      } finally {
        db.close();
      }
    },
    fail(t) {
      return Promise.resolve(holdSqliteWriteLock(t, file));
    },
  };
}

function etcdStore(): Store {
  let namespace = '';
  const open = (_t: TestContext, now?: () => number): TokenStore =>
    new EtcdTokenStore(etcd.client(), { namespace, ...(now ? { now } : {}) });
  return {
    open(t, now) {
      namespace = `test-${randomBytes(4).toString('hex')}/`;
      return open(t, now);
    },
    openSecond: open,
    async dump() {
      const all = await etcd.client().getAll().prefix(namespace).strings();
      return JSON.stringify(all);
    },
    fail(t) {
      return loseEtcdQuorum(t, etcd.cluster());
    },
  };
}

const owner = (o: string, ttlMs = DAY) => ({
  kind: 'owner' as const,
  owner: o,
  role: 'control' as const,
  label: 'x',
  ttlMs,
});

for (const [name, store] of [
  ['SqliteTokenStore', sqliteStore()],
  ['EtcdTokenStore', etcdStore()],
] as const) {
  describe(`TokenStore contract: ${name}`, () => {
    it('issues 192-bit prefixed secrets and stores only their sha256', async (t) => {
      const s = store.open(t);
      const a = await s.issue(owner('o'));
      const b = await s.issue({ kind: 'share', owner: 'o', role: 'view', sessionId: 's-1', label: 'x', ttlMs: DAY });
      assert.match(a.secret, /^lso_[A-Za-z0-9_-]{32}$/);
      assert.match(b.secret, /^lss_[A-Za-z0-9_-]{32}$/);
      assert.ok(Buffer.from(a.secret.slice(4), 'base64url').length >= 16, 'at least 128 bits');
      const dump = await store.dump();
      for (const secret of [a.secret, b.secret]) {
        assert.ok(!dump.includes(secret) && !dump.includes(secret.slice(4)), 'secret not stored');
        assert.ok(dump.includes(createHash('sha256').update(secret).digest('hex')), 'its digest is');
      }
      assert.equal((await s.verify(a.secret))?.owner, 'o');
      assert.equal((await s.verify(b.secret))?.sessionId, 's-1');
      assert.equal((await s.get(a.id))?.kind, 'owner');
      assert.equal(await s.get('t-missing'), null);
    });

    it('refuses unknown, tampered, expired and revoked secrets', async (t) => {
      let now = 1_000_000;
      const s = store.open(t, () => now);
      const tok = await s.issue(owner('o', 1000));
      assert.ok(await s.verify(tok.secret));
      assert.equal(await s.verify(`${tok.secret.slice(0, -1)}${tok.secret.endsWith('A') ? 'B' : 'A'}`), null);
      assert.equal(await s.verify(''), null);
      assert.equal(await s.verify('x'.repeat(10_000)), null);
      now += 1000;
      assert.equal(await s.verify(tok.secret), null, 'expired');
      assert.equal(await s.isActive(tok.id), false, 'expired');
      const u = await s.issue(owner('o'));
      assert.ok(await s.isActive(u.id));
      assert.equal(await s.revoke(u.id), true);
      assert.equal(await s.revoke(u.id), false, 'already revoked');
      assert.equal(await s.verify(u.secret), null, 'revoked');
      assert.equal(await s.isActive(u.id), false);
      assert.equal(await s.isActive('t-missing'), false);
    });

    it('ensure() makes an operator-chosen secret valid again and renews it', async (t) => {
      let now = 5_000_000;
      const s = store.open(t, () => now);
      const secret = 'envtoken_cccccccccccccccccccccccc';
      const id = await s.ensure(secret, { ...owner('local', 1000), role: 'admin', label: 'env' });
      assert.equal((await s.verify(secret))?.role, 'admin');
      await s.revoke(id);
      now += 5000;
      assert.equal(await s.ensure(secret, { ...owner('local', 1000), role: 'admin', label: 'env' }), id, 'same row');
      const rec = await s.verify(secret);
      assert.equal(rec?.revokedAt, null);
      assert.equal(rec?.expiresAt, now + 1000);
    });

    it('lists, counts and revokes by filter, newest first', async (t) => {
      let now = 10_000;
      const s = store.open(t, () => now++);
      const o1 = await s.issue(owner('ann'));
      const sh = await s.issue({
        kind: 'share',
        owner: 'ann',
        role: 'view',
        sessionId: 's',
        label: 'share',
        ttlMs: DAY,
      });
      const o2 = await s.issue(owner('ann'));
      const other = await s.issue(owner('ben'));
      const host = await s.issue({
        kind: 'host',
        owner: 'host:pc',
        hostId: 'pc',
        role: 'node',
        label: 'host',
        ttlMs: DAY,
      });
      const n1 = await s.issue({
        kind: 'node',
        owner: 'node:a',
        nodeId: 'a',
        parentId: host.id,
        role: 'node',
        label: 'join',
        ttlMs: DAY,
      });
      const n2 = await s.issue({
        kind: 'node',
        owner: 'node:b',
        nodeId: 'b',
        parentId: host.id,
        role: 'node',
        label: 'join',
        ttlMs: DAY,
      });
      assert.deepEqual(
        (await s.listActive('ann')).map((r) => r.id),
        [o2.id, sh.id, o1.id],
      );
      assert.deepEqual(
        (await s.listActive('ann', 'owner')).map((r) => r.id),
        [o2.id, o1.id],
      );
      assert.deepEqual(
        (await s.listActiveOfKind('node')).map((r) => r.id),
        [n2.id, n1.id],
      );
      assert.equal(await s.countActive('ann', 'owner'), 2);
      assert.deepEqual(new Set(await s.revokeWhere({ owner: 'ann', exceptId: o2.id })), new Set([o1.id, sh.id]));
      assert.deepEqual(
        (await s.listActive('ann')).map((r) => r.id),
        [o2.id],
      );
      assert.deepEqual(new Set(await s.revokeWhere({ kind: 'node', parentId: host.id })), new Set([n1.id, n2.id]));
      assert.deepEqual(await s.revokeWhere({ kind: 'node' }), [], 'nothing active left to revoke');
      assert.ok(await s.isActive(other.id));
      assert.ok(await s.isActive(host.id));
    });

    it('purges tokens expired or revoked more than the audit window ago', async (t) => {
      let now = 1_000_000_000;
      const s = store.open(t, () => now);
      const short = await s.issue(owner('p', 1000));
      const revoked = await s.issue(owner('p'));
      await s.revoke(revoked.id);
      const live = await s.issue(owner('p', 365 * DAY));
      assert.equal(await s.purge(), 0, 'too recent');
      now += PURGE_AFTER_MS + 2000;
      assert.equal(await s.purge(), 2);
      assert.equal(await s.get(short.id), null);
      assert.equal(await s.get(revoked.id), null);
      assert.ok(await s.verify(live.secret));
    });

    it('a revocation through one instance (server) is refused by another', async (t) => {
      const a = store.open(t);
      const b = store.openSecond(t);
      const tok = await a.issue({
        kind: 'share',
        owner: 'q',
        role: 'control',
        sessionId: 's',
        label: 'share',
        ttlMs: DAY,
      });
      assert.equal((await b.verify(tok.secret))?.id, tok.id, 'any instance accepts any valid token');
      assert.equal(await a.revoke(tok.id), true);
      assert.equal(await b.verify(tok.secret), null);
      assert.equal(await b.isActive(tok.id), false);
      // Host admissions too: revoked through b, refused by a, with the node credentials under it.
      const hostsA = new HostTokens(a);
      const hostsB = new HostTokens(b);
      const host = await hostsA.issue('pc-9', { maxReplicas: 2 });
      await assert.rejects(() => hostsB.issue('pc-9'), /already has an active join token/);
      const node = await b.issue({
        kind: 'node',
        owner: 'node:n',
        nodeId: 'n',
        parentId: host.id,
        role: 'node',
        label: 'join',
        ttlMs: DAY,
      });
      assert.deepEqual(
        (await hostsA.list()).map((h) => [h.hostId, h.maxReplicas]),
        [['pc-9', 2]],
      );
      assert.deepEqual(new Set(await hostsB.revoke('pc-9')), new Set([host.id, node.id]));
      assert.equal(await a.verify(host.secret), null);
      assert.equal(await a.verify(node.secret), null);
      assert.deepEqual(await hostsA.list(), []);
    });

    it('a write the store cannot make is refused, and the store serves again once it can', async (t) => {
      const s = store.open(t);
      const kept = await s.issue(owner('r'));
      const restore = await store.fail(t);
      const refused = (err: unknown): boolean =>
        err instanceof Error && (name === 'SqliteTokenStore' || err instanceof DurabilityError);
      await assert.rejects(() => s.issue(owner('r')), refused);
      await assert.rejects(() => s.revoke(kept.id), refused);
      await restore();
      if (name === 'SqliteTokenStore') {
        // A refused SQLite transaction never happened.
        assert.equal(await s.countActive('r', 'owner'), 1);
        assert.ok(await s.verify(kept.secret), 'the failed revoke did not happen');
      }
      // etcd: a request that timed out without quorum may still commit when quorum returns
      // (its outcome is unknown, never acknowledged): a refused issue's secret was never handed
      // out, and a refused revoke may land later, both on the safe side.
      const again = await s.issue(owner('r'));
      assert.ok(await s.verify(again.secret));
      assert.equal(await s.revoke(again.id), true);
      assert.equal(await s.verify(again.secret), null);
    });
  });
}
