// The leader's etcd upkeep on a real 3-member etcd: closed sessions' keys are
// deleted (open ones kept), every server's relayed checkpoint report of them
// too, the revision history is compacted behind the window, every member is
// defragmented, and a follower's upkeep does nothing. Closed sessions are found
// from etcd (the close's mark), so a session closed under an earlier leader is
// purged by the next one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FencedWriter } from '../../server/cluster/fenced-writer.js';
import { LeaderElection } from '../../server/cluster/leader-election.js';
import { memberDbSizes, Upkeep, type UpkeepOptions } from '../../server/cluster/upkeep.js';
import { closedSessionKey, EtcdSessionStore } from '../../server/store/etcd-session-store.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';

describe('cluster upkeep on a real 3-member etcd', () => {
  const etcd = etcdSuite();
  /** `e`'s upkeep over the suite's etcd, its writes fenced by `e`. */
  const upkeepOn = (e: LeaderElection, namespace: string, extra: Partial<UpkeepOptions> = {}) =>
    Upkeep.create({
      client: etcd.client(),
      election: e,
      writer: new FencedWriter(etcd.client(), e),
      memberUrls: etcd.cluster().clientUrls,
      namespace,
      ...extra,
    });

  it('purges closed sessions, compacts and defragments on the leader only', async () => {
    const ns = 'upkeep/';
    const admin = etcd.client();
    for (const s of ['closed-1', 'open-1']) {
      await admin.put(`${ns}log/${s}/head`).value('2');
      await admin.put(`${ns}log/${s}/in/0000000000000001`).value('{}');
      await admin.put(`${ns}snap/${s}/meta/0000000000000001`).value('{}');
      // Two servers' relayed checkpoint reports (under their leases, which outlive the session).
      for (const server of ['sa', 'sb']) await admin.put(`${ns}cluster/ckpt-report/${server}/${s}`).value('{}');
    }
    await admin.put(closedSessionKey(ns, 'closed-1')).value('1');
    for (let i = 0; i < 300; i++) await admin.put(`${ns}churn`).value(String(i));
    const firstRev = (await admin.get(`${ns}churn`).exec()).header.revision;

    const a = await LeaderElection.create({ client: etcd.client(), namespace: ns, serverId: 'a' });
    await until(() => a.isLeader, 5000, 'a to lead');
    const b = await LeaderElection.create({ client: etcd.client(), namespace: ns, serverId: 'b' });
    const purged: string[] = [];
    const upkeepOf = (e: LeaderElection) =>
      upkeepOn(e, ns, { purged: (ids) => purged.push(...ids), keepRevisions: 50 });
    const [ua, ub] = await Promise.all([upkeepOf(a), upkeepOf(b)]);
    try {
      assert.deepEqual(await ub.runOnce(true), {
        marked: 0,
        purgedSessions: 0,
        swept: 0,
        compactedTo: null,
        defragmented: 0,
      });
      assert.equal(await admin.get(`${ns}log/closed-1/head`).string(), '2');

      const report = await ua.runOnce(true);
      assert.equal(report.purgedSessions, 1);
      assert.deepEqual(purged, ['closed-1']);
      assert.equal(report.defragmented, 3);
      assert.ok(report.compactedTo !== null && BigInt(report.compactedTo) > BigInt(firstRev) - 60n);
      assert.equal((await admin.getAll().prefix(`${ns}log/closed-1/`).keys()).length, 0);
      assert.equal((await admin.getAll().prefix(`${ns}snap/closed-1/`).keys()).length, 0);
      assert.equal((await admin.getAll().prefix(`${ns}log/open-1/`).keys()).length, 2);
      assert.equal(await admin.get(closedSessionKey(ns, 'closed-1')).string(), null, 'the mark goes with them');
      assert.equal((await ua.runOnce(false)).purgedSessions, 0, 'purged once');
      assert.deepEqual((await admin.getAll().prefix(`${ns}cluster/ckpt-report/`).keys()).sort(), [
        `${ns}cluster/ckpt-report/sa/open-1`,
        `${ns}cluster/ckpt-report/sb/open-1`,
      ]);
      // History behind the window is gone: a read at an old revision is refused.
      await assert.rejects(
        admin
          .get(`${ns}churn`)
          .revision(Number(firstRev) - 200)
          .string(),
        /compacted/,
      );
      const sizes = await memberDbSizes(etcd.cluster().clientUrls);
      assert.equal(sizes.length, 3);
      assert.ok(sizes.every((s) => s > 0));
    } finally {
      await Promise.all([ua.close(), ub.close(), a.close(), b.close()]);
    }
  });

  it('a session closed under one leader is purged by the next (found in etcd, not in the old leader memory)', async () => {
    const ns = 'upkeep-handover/';
    const admin = etcd.client();
    const store = new EtcdSessionStore(etcd.client(), { namespace: ns });
    const app = { name: 'writer', hash: '0123456789abcdef' };
    const open = () => store.create({ owner: 'o', app, replicationFactor: 2, width: 320, height: 240 });
    const gone = (await open()).id;
    const kept = (await open()).id;
    for (const s of [gone, kept]) {
      const e = encodeURIComponent(s);
      await admin.put(`${ns}log/${e}/head`).value('1');
      await admin.put(`${ns}snap/${e}/meta/0000000000000001`).value('{}');
    }
    const a = await LeaderElection.create({ client: etcd.client(), namespace: ns, serverId: 'a' });
    await until(() => a.isLeader, 5000, 'a to lead');
    const upkeepOf = (e: LeaderElection) => upkeepOn(e, ns);
    const ua = await upkeepOf(a);
    // Closed while a leads, through any server: a steps down before its next pass.
    await store.close(gone);
    await ua.close();
    await a.close();
    const b = await LeaderElection.create({ client: etcd.client(), namespace: ns, serverId: 'b' });
    await until(() => b.isLeader, 10_000, 'b to lead');
    const ub = await upkeepOf(b);
    try {
      const report = await ub.runOnce(false);
      assert.equal(report.purgedSessions, 1);
      const e = encodeURIComponent(gone);
      assert.deepEqual(await admin.getAll().prefix(`${ns}log/${e}/`).keys(), []);
      assert.deepEqual(await admin.getAll().prefix(`${ns}snap/${e}/`).keys(), []);
      assert.equal(await admin.get(closedSessionKey(ns, gone)).string(), null);
      assert.equal((await store.get(gone))?.closedAt !== null, true, 'the closed record is kept');
      const k = encodeURIComponent(kept);
      assert.equal((await admin.getAll().prefix(`${ns}log/${k}/`).keys()).length, 1, 'an open session is kept');
    } finally {
      await Promise.all([ub.close(), b.close()]);
    }
  });
});
