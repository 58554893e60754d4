// ClusterMember on a real 3-member etcd: it opens the cluster plumbing (input
// feed, session watch, node directory, placement table) next to the registry
// and election, the parts work across two members, and close() cascades:
// this server's registry and node entries go at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_MODS } from '../../protocol/input.js';
import { ClusterMember } from '../../server/cluster/cluster-member.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import type { SessionBatch } from '../../server/sequencer-types.js';
import { EtcdInputLog } from '../../server/log/etcd-input-log.js';
import { EtcdSessionStore } from '../../server/store/etcd-session-store.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';

const SECRET = ClusterSecret.fromConfig('cluster-member-test-secret-0123456789', false);

describe('cluster member on a real 3-member etcd', () => {
  const etcd = etcdSuite();

  it('opens the cluster plumbing, which works across members, and closes it in a cascade', async (t) => {
    const ns = 'member-a/';
    const member = (id: string): Promise<ClusterMember> =>
      ClusterMember.create({
        hosts: etcd.cluster().clientUrls,
        callTimeoutMs: 1000,
        namespace: ns,
        self: { id, url: `http://${id}.test:3000`, sfuCapacity: 4, startedAt: 1 },
        secret: SECRET,
        registryTtlSeconds: 1,
      });
    const a = await member('a');
    const b = await member('b');
    t.after(() => Promise.all([a.close(), b.close()]));
    await until(() => a.election.isLeader || b.election.isLeader, 5000, 'a leader');
    const [leader, other] = a.election.isLeader ? [a, b] : [b, a];

    const store = new EtcdSessionStore(etcd.client(), { namespace: ns });
    const created: string[] = [];
    other.sessions.on('created', (row) => created.push(row.id));
    await store.create({
      id: 's1',
      owner: 'alice',
      app: { name: 'writer', hash: '0123456789abcdef' },
      replicationFactor: 2,
      width: 800,
      height: 600,
    });
    await until(() => created.includes('s1'), 5000, 'the session');

    const batches: SessionBatch[] = [];
    other.feed.on('sequenced', (bs) => batches.push(...bs));
    await other.feed.add('s1', 0);
    const log = await EtcdInputLog.connect({ hosts: etcd.cluster().clientUrls, namespace: ns });
    t.after(() => log.close());
    const key = { type: 'key' as const, action: 'down' as const, key: 'a', code: '', text: 'a', mods: NO_MODS };
    await log.appendBatch([{ sessionId: 's1', clientId: 'c', clientSeq: 0, time: 1, event: key }]);
    await until(() => batches.length === 1, 5000, 'the fed input');
    assert.equal(batches[0]?.inputs[0]?.seq, 1);

    await a.nodes.publish({
      nodeId: 'n-a',
      hostId: 'h1',
      admissionId: 'adm1',
      homeServerId: 'a',
      cores: 2,
      maxReplicas: 2,
      replicaCount: 0,
      load: 0,
      state: 'up',
      warmApps: [],
      apps: [],
      appPolicy: { kind: 'builtin' },
      warmBundles: [],
      refusedBundles: [],
    });
    await until(() => b.nodes.list().length === 1, 5000, 'b to see a node');
    await leader.placement.write('s1', [{ replicaId: 'r1', nodeId: 'n-a', homeServerId: 'a', mode: 'hot' }]);
    await until(() => a.placement.assignedTo('a').length === 1, 5000, "a to learn its node's replica");

    await a.close();
    await a.close(); // twice is harmless
    await until(
      () => b.registry.list().every((s) => s.id !== 'a') && b.nodes.list().length === 0,
      3000,
      "a's entries to go with its close",
    );
  });
});
