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
import type { WriterState } from '../../render/apps/writer/index.js';
import { authHeaders } from '../../scripts/lib/cluster-secrets.js';
import { LocalCluster } from '../../scripts/lib/local-cluster.js';
import { fetchLog } from '../../scripts/lib/reference-state.js';
import { openEtcdClient } from '../../server/cluster/etcd-client.js';
import { stopAll, type Proc } from '../helpers/processes.js';
import { keyDown } from '../helpers/key-input.js';
import { placementReader } from '../helpers/placement-reader.js';
import { referenceState } from '../helpers/reference-render.js';
import { ResendingTypist } from '../helpers/resending-typist.js';
import { TestViewer, waitFor } from '../helpers/viewer-client.js';

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
    const viewer = await TestViewer.connect(cluster.server(0).url);
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 3,
      width: W,
      height: H,
    });
    viewer.close();
    const sessionId = session.sessionId;
    await waitFor(
      'a live replica on every node',
      async () => {
        const { replicas } = await cluster.sessionReplicas(sessionId);
        return new Set(replicas.filter((r) => r.state === 'live').map((r) => r.hostId)).size === 3;
      },
      60_000,
      200,
    );
    const typist = new ResendingTypist({
      urls: cluster.servers.map((s) => s.url),
      sessionId,
      clientId: CLIENT_ID,
      ackTimeoutMs: 500,
    });
    let typed = '';
    const type = async (n: number): Promise<number> => {
      let seq = 0;
      for (let i = 0; i < n; i++) {
        const ch = WORDS[typed.length % WORDS.length] ?? ' ';
        seq = (await typist.send(keyDown(ch))).seq;
        typed += ch;
        await new Promise((r) => setTimeout(r, 50));
      }
      return seq;
    };
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
      typist.close();
    }

    const { head } = await cluster.sessionReplicas(sessionId);
    await waitFor('converged at the end', () => cluster.convergedAt(sessionId, head), 45_000, 200);
    const live = cluster.liveServers()[0];
    assert.ok(live);
    const log = await fetchLog(live.url, sessionId);
    assert.deepEqual(
      log.map((e) => e.seq),
      Array.from({ length: log.length }, (_, i) => i + 1),
      'dense seqs',
    );
    const mine = log.filter((e) => e.clientId.endsWith(`:${CLIENT_ID}`));
    assert.equal(mine.length, typist.acked.length, 'every acknowledged input logged, none twice');
    const bySeq = new Map(log.map((e) => [e.seq, e.clientSeq]));
    for (const a of typist.acked) assert.equal(bySeq.get(a.seq), a.clientSeq, `ack of ${a.clientSeq} named its seq`);
    const state = (await referenceState(live.url, 'writer', W, H, sessionId)) as WriterState;
    assert.equal(state.text, typed, 'the document is exactly what was typed');
  });
});
