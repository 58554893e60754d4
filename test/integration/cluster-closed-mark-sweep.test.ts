// The one-time backfill of closed-session marks on a real 3-member etcd:
// sessions closed before the close wrote `sess/closed/<id>` get their mark
// (open ones and already-marked ones are left alone, a malformed record is
// skipped), page by page under the leader's fence; a leader deposed mid-way
// writes nothing more and the next one resumes after the last committed page;
// a forged "done" is not believed; once done it stays done; and the upkeep
// that runs it purges those sessions' keys in the same pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { ClosedMarkSweep } from '../../server/cluster/closed-mark-sweep.js';
import { NotLeaderError } from '../../server/cluster/cluster-errors.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { FencedWriter, type FencedOp } from '../../server/cluster/fenced-writer.js';
import { LeaderElection } from '../../server/cluster/leader-election.js';
import { Upkeep } from '../../server/cluster/upkeep.js';
import {
  closedSessionKey,
  closedSessionsPrefix,
  EtcdSessionStore,
  sessionRecordsPrefix,
} from '../../server/store/etcd-session-store.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';

const SECRET = ClusterSecret.fromConfig('m'.repeat(40), false);

/** A real fenced writer that runs `after` once its first write has committed (the leader is then deposed). */
class FirstWriteThen extends FencedWriter {
  #after: (() => void) | null;
  constructor(...[client, election, after]: [...ConstructorParameters<typeof FencedWriter>, () => void]) {
    super(client, election);
    this.#after = after;
  }
  override async write(ops: readonly FencedOp[], forTerm?: string): Promise<string> {
    const rev = await super.write(ops, forTerm);
    const after = this.#after;
    this.#after = null;
    after?.();
    return rev;
  }
}

describe('closed-session mark backfill on a real 3-member etcd', () => {
  const etcd = etcdSuite();
  let reader: Etcd3 | null = null;
  const keysUnder = (prefix: string): Promise<string[]> => (reader ??= etcd.client()).getAll().prefix(prefix).keys();

  it('marks the closed sessions without a mark, resumably and fenced, and the upkeep purges them', async () => {
    const ns = 'backfill/';
    const admin = etcd.client();
    const store = new EtcdSessionStore(etcd.client(), { namespace: ns });
    const app = { name: 'writer', hash: '0123456789abcdef' };
    const open = async (id: string) =>
      (await store.create({ id, owner: 'o', app, replicationFactor: 2, width: 320, height: 240 })).id;
    // Five sessions closed "before marks existed": closed, then their mark taken away. Named so they come first.
    const old: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await open(`a-old-${i}`);
      await store.close(id, 1000 + i);
      await admin.delete().key(closedSessionKey(ns, id));
      old.push(id);
    }
    const stillOpen = await open('z-open');
    const marked = await open('z-marked');
    await store.close(marked, 5000);
    for (const s of [...old, stillOpen, marked]) {
      await admin.put(`${ns}log/${encodeURIComponent(s)}/head`).value('1');
      await admin.put(`${ns}snap/${encodeURIComponent(s)}/meta/0000000000000001`).value('{}');
    }
    // Hostile or stale etcd contents: a record that does not parse, one under another id's key, a forged "done".
    await admin.put(`${sessionRecordsPrefix(ns)}junk`).value('{not json');
    await admin
      .put(`${sessionRecordsPrefix(ns)}elsewhere`)
      .value(JSON.stringify({ ...(await store.get(old[0] ?? ''))!, id: 'elsewhere-not' }));
    const progressKey = `${ns}cluster/sweeps/closed-marks`;
    await admin.put(progressKey).value(JSON.stringify({ payload: '{"after":"","done":true}', mac: 'AAAA' }));
    const marks = async () => (await keysUnder(closedSessionsPrefix(ns))).sort();
    assert.deepEqual(await marks(), [closedSessionKey(ns, marked)]);

    // Leader a sweeps two records a page and is deposed right after its first page commits.
    const a = await LeaderElection.create({ client: etcd.client(), namespace: ns, serverId: 'a' });
    await until(() => a.isLeader, 5000, 'a to lead');
    const sweepA = new ClosedMarkSweep({
      client: etcd.client(),
      namespace: ns,
      writer: new FirstWriteThen(etcd.client(), a, () => a.stepDown('resigned')),
      secret: SECRET,
      pageSize: 2,
    });
    await assert.rejects(sweepA.runOnce(), NotLeaderError);
    const pageA = (await marks()).filter((k) => k !== closedSessionKey(ns, marked));
    assert.deepEqual(
      pageA,
      [closedSessionKey(ns, 'a-old-0'), closedSessionKey(ns, 'a-old-1')],
      'one page, then deposed',
    );
    await a.close();
    // Meanwhile those sessions were purged (their marks go with them): a resumed walk does not mark them again.
    for (const k of pageA) await admin.delete().key(k);

    const b = await LeaderElection.create({ client: etcd.client(), namespace: ns, serverId: 'b' });
    await until(() => b.isLeader, 10_000, 'b to lead');
    const writerB = new FencedWriter(etcd.client(), b);
    const sweepB = new ClosedMarkSweep({
      client: etcd.client(),
      namespace: ns,
      writer: writerB,
      secret: SECRET,
      pageSize: 2,
    });
    const resumed = await sweepB.runOnce();
    assert.deepEqual(resumed, { marked: 5 - pageA.length, done: true }, 'b resumed after the page a committed');
    const rest = old.map((id) => closedSessionKey(ns, id)).filter((k) => !pageA.includes(k));
    assert.deepEqual(await marks(), [...rest, closedSessionKey(ns, marked)].sort());
    assert.equal(await admin.get(closedSessionKey(ns, stillOpen)).string(), null, 'an open session is not marked');
    assert.equal(await admin.get(closedSessionKey(ns, old[4] ?? '')).string(), '1004', 'the mark is the close time');
    assert.equal(await admin.get(closedSessionKey(ns, marked)).string(), '5000', 'a mark there is left as it is');
    assert.deepEqual(await sweepB.runOnce(), { marked: 0, done: true });

    // The upkeep runs the backfill (a fresh one: done is read from etcd) and purges every marked session.
    const lost = old[4] ?? '';
    await admin.delete().key(closedSessionKey(ns, lost));
    const upkeep = await Upkeep.create({
      client: etcd.client(),
      election: b,
      writer: writerB,
      memberUrls: etcd.cluster().clientUrls,
      namespace: ns,
      secret: SECRET,
    });
    try {
      const report = await upkeep.runOnce(false);
      assert.equal(report.marked, 0, 'the backfill runs once: a mark lost later is not written again');
      const purged = [...old.filter((id) => id !== lost && !pageA.includes(closedSessionKey(ns, id))), marked];
      assert.equal(report.purgedSessions, purged.length);
      for (const id of purged) {
        assert.deepEqual(await keysUnder(`${ns}log/${encodeURIComponent(id)}/`), [], id);
        assert.deepEqual(await keysUnder(`${ns}snap/${encodeURIComponent(id)}/`), [], id);
      }
      assert.equal((await keysUnder(`${ns}log/${encodeURIComponent(stillOpen)}/`)).length, 1);
      assert.deepEqual(await marks(), []);
    } finally {
      await upkeep.close();
      await b.close();
    }
  });

  it('a fresh namespace: the upkeep backfills and purges in its first pass, a follower does nothing', async () => {
    const ns = 'backfill-upkeep/';
    const admin = etcd.client();
    const store = new EtcdSessionStore(etcd.client(), { namespace: ns });
    const app = { name: 'writer', hash: '0123456789abcdef' };
    const id = (await store.create({ owner: 'o', app, replicationFactor: 2, width: 320, height: 240 })).id;
    await store.close(id);
    await admin.delete().key(closedSessionKey(ns, id));
    await admin.put(`${ns}log/${encodeURIComponent(id)}/head`).value('1');
    const a = await LeaderElection.create({ client: etcd.client(), namespace: ns, serverId: 'a' });
    await until(() => a.isLeader, 5000, 'a to lead');
    const b = await LeaderElection.create({ client: etcd.client(), namespace: ns, serverId: 'b' });
    const upkeepOf = (e: LeaderElection) =>
      Upkeep.create({
        client: etcd.client(),
        election: e,
        writer: new FencedWriter(etcd.client(), e),
        memberUrls: etcd.cluster().clientUrls,
        namespace: ns,
        secret: SECRET,
      });
    const [ua, ub] = await Promise.all([upkeepOf(a), upkeepOf(b)]);
    try {
      assert.equal((await ub.runOnce(false)).marked, 0);
      assert.equal(await admin.get(`${ns}cluster/sweeps/closed-marks`).string(), null, 'a follower writes nothing');
      const report = await ua.runOnce(false);
      assert.equal(report.marked, 1);
      assert.equal(report.purgedSessions, 1);
      assert.deepEqual(await keysUnder(`${ns}log/${encodeURIComponent(id)}/`), []);
      assert.equal((await ua.runOnce(false)).purgedSessions, 0, 'purged once');
    } finally {
      await Promise.all([ua.close(), ub.close(), a.close(), b.close()]);
    }
  });
});
