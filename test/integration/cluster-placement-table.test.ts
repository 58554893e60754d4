// The cluster placement table on a real 3-member etcd: the leader writes a
// session's placement, every server sees it and picks out the replicas its
// nodes must run; a follower's or a deposed leader's write is refused with
// NotLeaderError and changes nothing; a forged entry is never listed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionPlacementSchema, type PlacedReplica } from '../../protocol/cluster-state.js';
import { NotLeaderError } from '../../server/cluster/cluster-errors.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { FencedWriter } from '../../server/cluster/fenced-writer.js';
import { LeaderElection } from '../../server/cluster/leader-election.js';
import { PlacementTable } from '../../server/cluster/placement-table.js';
import { sealEntry } from '../helpers/sealed-entries.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';

const SECRET = ClusterSecret.fromConfig('placement-table-test-secret-0123456789', false);
const replica = (
  replicaId: string,
  nodeId: string,
  homeServerId: string,
  mode: 'warm' | 'hot' = 'warm',
): PlacedReplica => ({
  replicaId,
  nodeId,
  homeServerId,
  mode,
});

describe('cluster placement table on a real 3-member etcd', () => {
  const etcd = etcdSuite();

  async function server(ns: string, id: string): Promise<{ election: LeaderElection; table: PlacementTable }> {
    const client = etcd.client();
    const election = await LeaderElection.create({ client, namespace: ns, serverId: id });
    const table = await PlacementTable.create({
      client,
      namespace: ns,
      election,
      writer: new FencedWriter(client, election),
      secret: SECRET,
    });
    return { election, table };
  }

  it('the leader writes, everyone reads; only the leader may write; a deposed leader is refused', async (t) => {
    const ns = 'placement-a/';
    const admin = etcd.client();
    const a = await server(ns, 'a');
    await until(() => a.election.isLeader, 5000, 'a to lead');
    const b = await server(ns, 'b');
    t.after(async () => {
      for (const s of [a, b]) {
        await s.table.close();
        await s.election.close();
      }
    });
    const changes: string[] = [];
    b.table.on('changed', (id, p) => changes.push(`${id}:${p ? p.replicas.length : 'gone'}`));
    const replicas = [replica('r1', 'n1', 'a', 'hot'), replica('r2', 'n2', 'b'), replica('r3', 'n3', 'b')];
    const written = await a.table.write('s1', replicas);
    // Every table learns placements through its own watch, the writer's included.
    await until(() => b.table.get('s1') !== null && a.table.get('s1') !== null, 5000, 'a and b to see the placement');
    assert.deepEqual(b.table.get('s1'), written);
    assert.deepEqual(
      b.table.assignedTo('b').map((x) => x.replica.replicaId),
      ['r2', 'r3'],
    );
    assert.deepEqual(a.table.assignedTo('a'), [{ sessionId: 's1', replica: replicas[0] }]);
    await assert.rejects(b.table.write('s1', []), NotLeaderError);
    await assert.rejects(a.table.write('s2', [replica('x', 'n1', 'a'), replica('x', 'n2', 'b')]), /twice/);

    // etcd hands the term to b behind a's back (its lease revoked, as in a partition).
    const kv = (await admin.get(a.election.leaderKey).exec()).kvs[0];
    assert.ok(kv);
    await admin.leaseClient.leaseRevoke({ ID: kv.lease });
    await until(() => b.election.isLeader, 5000, 'b to lead');
    await assert.rejects(a.table.write('s1', [replica('r9', 'n9', 'a')]), NotLeaderError);
    assert.equal(a.election.isLeader, false);
    await b.table.write('s1', replicas.slice(1));
    await until(() => a.table.get('s1')?.replicas.length === 2, 5000, 'a to see the new placement');
    const term = b.election.verdict();
    assert.ok(term.leader);
    assert.equal(a.table.get('s1')?.term, term.revision);
    await b.table.remove('s1');
    await until(() => a.table.get('s1') === null, 5000, 'the removal');
    // b learns its own removal through its watch too, not necessarily before a does.
    await until(() => changes.includes('s1:gone'), 5000, 'b to see the removal');
    assert.deepEqual(changes, ['s1:3', 's1:2', 's1:gone']);
  });

  it('never lists a forged or misfiled placement', async (t) => {
    const ns = 'placement-b/';
    const admin = etcd.client();
    const prefix = `${ns}cluster/placement/`;
    const forger = ClusterSecret.fromConfig('not-the-cluster-secret-0123456789abc', false);
    const p = (sessionId: string) => ({
      sessionId,
      replicas: [replica('r', 'evil-node', 'evil')],
      term: '1',
      writtenAt: 1,
    });
    await admin
      .put(`${prefix}s1`)
      .value(sealEntry(forger, 'placement-entry', `${prefix}s1`, SessionPlacementSchema, p('s1')));
    await admin
      .put(`${prefix}s2`)
      .value(sealEntry(SECRET, 'placement-entry', `${prefix}s3`, SessionPlacementSchema, p('s3')));
    await admin.put(`${prefix}s4`).value('not json');
    // A node entry's MAC never passes as a placement's.
    await admin
      .put(`${prefix}s5`)
      .value(sealEntry(SECRET, 'node-entry', `${prefix}s5`, SessionPlacementSchema, p('s5')));
    const s = await server(ns, 'a');
    t.after(async () => {
      await s.table.close();
      await s.election.close();
    });
    await until(() => s.election.isLeader, 5000, 'a to lead');
    await s.table.write('ok', [replica('r1', 'n1', 'a')]);
    await until(() => s.table.get('ok') !== null, 5000, 'its own write');
    assert.deepEqual(
      s.table.list().map((x) => x.sessionId),
      ['ok'],
    );
  });
});
