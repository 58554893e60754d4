// Nodes move back (real processes): a 3-member etcd, 3 servers and 3 renderer
// nodes, each node given every server with its own first. SIGKILL of server-1
// moves its node to server-2 (two nodes, and two of the session's replicas,
// share one home); when server-1 comes back the leader directs one node at a
// time (fenced, in etcd) to move there, the node checks the directive with
// server-1 itself and re-produces its replica there without rebuilding it,
// so every server homes one node again and the session's replicas sit on
// three home servers. Typing runs throughout through a typist that resends via
// another server: every acknowledged input is in the log exactly once and the
// document is exactly what was typed. The homes then stay put (no flapping).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { authHeaders } from '../../scripts/lib/cluster-secrets.js';
import { LocalCluster } from '../../scripts/lib/local-cluster.js';
import { openEtcdClient } from '../../server/cluster/etcd-client.js';
import { assertTypedExactlyOnce, ClusterTyping, liveClusterSession } from '../helpers/cluster-session.js';
import { stopAll, type Proc } from '../helpers/processes.js';
import { placementReader } from '../helpers/placement-reader.js';
import { waitFor } from '../helpers/viewer-client.js';

const W = 480;
const H = 320;
const CLIENT_ID = 'rebalance-typist';
const WORDS = 'homes spread again ';
const INFO = { LOCKSTEP_LOG_LEVEL: 'info' };

/** How many of `p`'s log lines after `from` carry this msg. */
function count(p: Proc | null, from: number, msg: string): number {
  return p ? p.output().slice(from).split(`"msg":"${msg}"`).length - 1 : 0;
}

describe('nodes move back to a server that returns (3 servers, 3 nodes, a 3-member etcd)', () => {
  let cluster: LocalCluster;
  let client: Etcd3;
  before(async () => {
    cluster = await LocalCluster.create({
      servers: 3,
      nodes: 3,
      loopback: true,
      serverEnv: {
        ...INFO,
        LOCKSTEP_SNAPSHOT_EVERY: '100000',
        LOCKSTEP_REBALANCE_SETTLE_MS: '1500',
        LOCKSTEP_REBALANCE_GAP_MS: '2000',
      },
      nodeEnv: INFO,
    });
    client = openEtcdClient({ hosts: cluster.etcd.clientUrls, callTimeoutMs: 1000 });
  });
  after(async () => {
    client.close();
    await cluster.close();
    await stopAll();
  });

  it('re-homes one node to the returned server, rebuilds nothing, loses no input, then stays put', async (t) => {
    const sessionId = await liveClusterSession(cluster, 3, { width: W, height: H });
    const typing = new ClusterTyping(cluster, sessionId, CLIENT_ID, WORDS);
    const type = async (n: number): Promise<number> => (await typing.type(n)).at(-1)?.seq ?? 0;
    const homesOf = async (): Promise<string> =>
      JSON.stringify([...(await cluster.nodeHomes())].sort(([a], [b]) => (a < b ? -1 : 1)));
    const readPlacement = placementReader(client, cluster.secret);

    try {
      await type(15);
      const start = await homesOf();
      t.diagnostic(`homes at the start: ${start}`);
      assert.equal(new Set((await cluster.nodeHomes()).values()).size, 3, 'one node per server at the start');

      // server-1 dies: node-1 moves on to server-2 (next in its list) and stays.
      const typing = type(30);
      await new Promise((r) => setTimeout(r, 300));
      await cluster.killServer(0);
      await typing;
      const crowded = await waitFor(
        'node-1 re-homed on server-2',
        async () => {
          const homes = await cluster.nodeHomes();
          return homes.get('node-1') === 'server-2' && homes.size === 3 ? homes : undefined;
        },
        30_000,
        200,
      );
      const head1 = await type(10);
      await waitFor(`converged at ${head1} without server-1`, () => cluster.convergedAt(sessionId, head1), 45_000, 200);
      t.diagnostic(`homes with server-1 down: ${JSON.stringify([...crowded])}`);

      // server-1 returns: one of server-2's nodes is directed back to it.
      const marks = cluster.nodes.map((n) => n.proc?.output().length ?? 0);
      const serverMarks = cluster.servers.map((s) => s.proc?.output().length ?? 0);
      const backAt = Date.now();
      await cluster.startServer(0);
      const during = type(60);
      const spread = await waitFor(
        'one node per server again',
        async () => {
          const homes = await cluster.nodeHomes();
          return homes.size === 3 && new Set(homes.values()).size === 3 ? homes : undefined;
        },
        60_000,
        200,
      );
      const spreadMs = Date.now() - backAt;
      await during;
      t.diagnostic(`server-1 back → homes spread in ${spreadMs} ms: ${JSON.stringify([...spread])}`);

      const moved = cluster.nodes.filter((n, i) => count(n.proc, marks[i] ?? 0, 'moving home (rebalance)') > 0);
      assert.equal(moved.length, 1, 'exactly one node moved on a directive');
      const mover = moved[0];
      assert.ok(mover && crowded.get(mover.hostId) === 'server-2', 'the node that moved came from the crowded server');
      assert.equal(spread.get(mover.hostId), 'server-1', 'to the returned server');
      const directed = cluster.servers.reduce(
        (sum, s, i) =>
          sum + count(s.proc, i === 0 ? 0 : (serverMarks[i] ?? 0), 'node directed to move home (rebalance)'),
        0,
      );
      assert.equal(directed, 1, 'the leader issued one directive');
      assert.ok(
        (cluster.server(0).proc?.output() ?? '').includes('"msg":"replica adopted"'),
        'server-1 adopted the replica',
      );
      // Re-produced, not rebuilt: no node started or restored a replica, none closed a held one.
      for (const [i, n] of cluster.nodes.entries()) {
        assert.equal(count(n.proc, marks[i] ?? 0, 'replica started'), 0, `${n.hostId} started no replica`);
        assert.equal(count(n.proc, marks[i] ?? 0, 'restored from snapshot'), 0, `${n.hostId} restored nothing`);
        assert.equal(count(n.proc, marks[i] ?? 0, 'held replica not adopted; closing it'), 0);
      }

      const head2 = await type(10);
      await waitFor(`converged at ${head2} after the move`, () => cluster.convergedAt(sessionId, head2), 45_000, 200);
      const placed = await waitFor('the table homes the replicas on three servers', async () => {
        const p = await readPlacement(sessionId);
        return p && new Set(p.replicas.map((r) => r.homeServerId)).size === 3 ? p : undefined;
      });
      t.diagnostic(
        `placement: ${placed.replicas.map((r) => `${r.replicaId}@${r.nodeId}/${r.homeServerId}`).join(', ')}`,
      );

      // Only a node's own credential may ask a server to confirm a move: no token, or a viewer's, is refused.
      const s1 = cluster.server(0).url;
      assert.equal((await fetch(`${s1}/api/rehome`)).status, 401, 'no token');
      assert.equal((await fetch(`${s1}/api/rehome`, { headers: authHeaders(s1) })).status, 401, "the owner's token");

      // Hysteresis: even homes stay put.
      const settled = await homesOf();
      await type(40);
      await new Promise((r) => setTimeout(r, 4000));
      assert.equal(await homesOf(), settled, 'no node moved once the homes were even');
    } finally {
      typing.close();
    }

    const { head } = await cluster.sessionReplicas(sessionId);
    await waitFor('converged at the end', () => cluster.convergedAt(sessionId, head), 45_000, 200);
    await assertTypedExactlyOnce(cluster, sessionId, {
      clientId: CLIENT_ID,
      acked: typing.typist.acked,
      typed: typing.typed,
      width: W,
      height: H,
    });
  });
});
