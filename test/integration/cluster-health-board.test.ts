// The replica health board on a real 3-member etcd: each home server's report
// on a session reaches every server, coalesced (an unchanged report is not
// written again), goes with its session and with its server's lease; a
// forged or misfiled report is never listed (it could make the leader move
// replicas).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerInfo } from '../../protocol/cluster.js';
import { SessionHealthReportSchema, type SessionHealthReport } from '../../protocol/cluster-state.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { ReplicaHealthBoard } from '../../server/cluster/replica-health-board.js';
import { ServerRegistry } from '../../server/cluster/server-registry.js';
import { sealEntry } from '../helpers/sealed-entries.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';

const SECRET = ClusterSecret.fromConfig('health-board-test-secret-0123456789', false);
const OTHER = ClusterSecret.fromConfig('some-other-secret-0123456789abcdef', false);
const server = (id: string): ServerInfo => ({ id, url: `http://${id}.test:3000`, sfuCapacity: 8, startedAt: 1 });
const report = (sessionId: string, appliedSeq: number): Omit<SessionHealthReport, 'serverId'> => ({
  sessionId,
  replicas: [{ replicaId: `${sessionId}.r1`, nodeId: 'n1', state: 'live', appliedSeq, stateHash: 'ab'.repeat(8) }],
  failed: [{ replicaId: `${sessionId}.r2`, nodeId: 'n2', hostId: 'h2', cause: 'unresponsive' }],
  quarantinedHosts: [],
});

describe('replica health board on a real 3-member etcd', () => {
  const etcd = etcdSuite();

  async function member(ns: string, id: string) {
    const client = etcd.client();
    const reg = await ServerRegistry.create({ client, namespace: ns, self: server(id), secret: SECRET, ttlSeconds: 1 });
    const board = await ReplicaHealthBoard.create({
      client,
      namespace: ns,
      registry: reg,
      secret: SECRET,
      flushEveryMs: 50,
    });
    return { reg, board };
  }

  it("every server reads every home server's reports; unchanged ones are not rewritten; they go with the session and the lease", async (t) => {
    const ns = 'health-a/';
    const a = await member(ns, 'a');
    const b = await member(ns, 'b');
    t.after(async () => {
      for (const m of [a, b]) {
        await m.board.close();
        await m.reg.close();
      }
    });
    const watcher = etcd.client();
    const puts: string[] = [];
    const w = await watcher.watch().prefix(`${ns}cluster/health/`).create();
    t.after(() => w.cancel());
    w.on('put', (kv) => puts.push(kv.key.toString()));

    for (let i = 0; i < 5; i++) a.board.report(report('s1', 3)); // coalesced: one write
    b.board.report(report('s1', 3));
    await until(() => a.board.reportsOn('s1').length === 2, 5000, 'A to see both reports');
    await until(() => b.board.reportsOn('s1').length === 2, 5000, 'B to see both reports');
    const fromA = b.board.reportsOn('s1').find((r) => r.serverId === 'a');
    assert.deepEqual(fromA?.failed, report('s1', 3).failed);
    await new Promise((r) => setTimeout(r, 300));
    a.board.report(report('s1', 3)); // unchanged
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(puts.filter((k) => k.endsWith('/a/s1')).length, 1, 'one write for five reports and an unchanged one');
    a.board.report(report('s1', 4));
    await until(
      () => b.board.reportsOn('s1').some((r) => r.serverId === 'a' && r.replicas[0]?.appliedSeq === 4),
      5000,
      'the change',
    );

    await a.board.forget('s1');
    await until(
      () => b.board.reportsOn('s1').every((r) => r.serverId !== 'a'),
      5000,
      "A's report gone with its session",
    );
    b.board.report(report('s2', 1));
    await until(() => a.board.reportsOn('s2').length === 1, 5000, "B's second report");
    // B dies without closing: its lease expires and its reports go with it.
    await b.reg.close();
    await until(
      () => a.board.reportsOn('s2').length === 0 && a.board.reportsOn('s1').length === 0,
      8000,
      "B's reports gone with its lease",
    );
  });

  it('a forged or misfiled report is never listed', async (t) => {
    const ns = 'health-b/';
    const a = await member(ns, 'a');
    t.after(async () => {
      await a.board.close();
      await a.reg.close();
    });
    const client = etcd.client();
    const key = (server: string, session: string) => `${ns}cluster/health/${server}/${session}`;
    const value = (serverId: string, sessionId: string) => ({ ...report(sessionId, 1), serverId });
    // Signed with another secret; a genuine one copied under another session's key; not JSON at all.
    await client
      .put(key('x', 's1'))
      .value(sealEntry(OTHER, 'health-entry', key('x', 's1'), SessionHealthReportSchema, value('x', 's1')));
    const genuine = sealEntry(SECRET, 'health-entry', key('x', 's2'), SessionHealthReportSchema, value('x', 's2'));
    await client.put(key('x', 's3')).value(genuine);
    await client.put(key('x', 's4')).value('{nope');
    await client.put(key('x', 's2')).value(genuine);
    await until(() => a.board.reportsOn('s2').length === 1, 5000, 'the genuine report');
    for (const s of ['s1', 's3', 's4']) assert.deepEqual(a.board.reportsOn(s), [], `${s} ignored`);
  });
});
