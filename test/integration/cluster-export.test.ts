// Export from any server of a cluster (real processes): a 3-member etcd, 3
// servers and 3 renderer nodes, one homed on each server. The server asked for
// a session's file homes at most one of its replicas (for an R=2 session, the
// one asked homes none), so it asks the replicas' home servers over the signed
// server-to-server path; the file is served only when replicas on two hosts
// (a majority) produced the same bytes, counted from the asked server's own
// table and directory. A relay request without the cluster secret's signature
// is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { authHeaders } from '../../scripts/lib/cluster-secrets.js';
import { LocalCluster } from '../../scripts/lib/local-cluster.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openEtcdClient } from '../../server/cluster/etcd-client.js';
import { PEER_EXPORT_PATH } from '../../server/cluster/export-peers.js';
import { liveClusterSession } from '../helpers/cluster-session.js';
import { stopAll } from '../helpers/processes.js';
import { keyDown } from '../helpers/key-input.js';
import { placementReader } from '../helpers/placement-reader.js';
import { TestViewer, waitFor } from '../helpers/viewer-client.js';

const W = 480;
const H = 320;

describe('export from any server of a cluster (3 servers, 3 nodes, a 3-member etcd)', () => {
  let cluster: LocalCluster;
  let client: Etcd3;
  before(async () => {
    cluster = await LocalCluster.create({ servers: 3, nodes: 3, loopback: true });
    client = openEtcdClient({ hosts: cluster.etcd.clientUrls, callTimeoutMs: 1000 });
  });
  after(async () => {
    client.close();
    await cluster.close();
    await stopAll();
  });

  it('serves the file agreed by two hosts from a server homing one replica, or none', async (t) => {
    const readPlacement = placementReader(client, cluster.secret);
    const sessions: Array<{ r: number; sessionId: string; text: string }> = [];
    for (const r of [3, 2]) {
      const sessionId = await liveClusterSession(cluster, r, { width: W, height: H });
      sessions.push({ r, sessionId, text: `Exported from anywhere, R=${r}.` });
    }
    const viewer = await TestViewer.connect(cluster.server(0).url);
    for (const s of sessions) {
      await viewer.request({ type: 'session.join', sessionId: s.sessionId, clientId: `typist-${s.r}` });
      viewer.clientSeq = 0;
      for (const ch of s.text) {
        await viewer.request({
          type: 'input',
          sessionId: s.sessionId,
          clientSeq: viewer.clientSeq++,
          event: keyDown(ch),
        });
      }
      await waitFor(
        `converged at ${s.text.length}`,
        () => cluster.convergedAt(s.sessionId, s.text.length, s.r),
        45_000,
        200,
      );
    }
    viewer.close();

    for (const s of sessions) {
      const placement = await waitFor('the table homes every replica on its own server', async () => {
        const p = await readPlacement(s.sessionId);
        return p && p.replicas.length === s.r && new Set(p.replicas.map((x) => x.homeServerId)).size === s.r
          ? p
          : undefined;
      });
      const homed = (id: string): number => placement.replicas.filter((x) => x.homeServerId === id).length;
      // The server homing the fewest of this session's replicas: one for R=3, none for R=2.
      const asked = [...cluster.servers].sort((a, b) => homed(a.id) - homed(b.id))[0];
      assert.ok(asked);
      assert.equal(homed(asked.id), s.r === 3 ? 1 : 0, `${asked.id} homes ${homed(asked.id)} of ${s.sessionId}`);
      const res = await fetch(`${asked.url}/api/sessions/${s.sessionId}/export?format=txt`, {
        headers: authHeaders(asked.url),
      });
      const body = await res.text();
      assert.equal(res.status, 200, `export from ${asked.id}: ${body}`);
      assert.equal(body, s.text, 'the document as typed');
      const { head } = await cluster.sessionReplicas(s.sessionId);
      assert.equal(res.headers.get('x-lockstep-seq'), String(head), 'at the head');
      t.diagnostic(`R=${s.r}: exported from ${asked.id}, which homes ${homed(asked.id)} replica(s)`);
    }

    // The relay path serves only the cluster: unsigned, wrongly signed or stale requests are refused.
    const target = cluster.server(1);
    const first = sessions[0];
    assert.ok(first);
    const relayBody = JSON.stringify({ sessionId: first.sessionId, atSeq: 1, format: 'txt', replicaIds: ['x.r1'] });
    const post = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${target.url}${PEER_EXPORT_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: relayBody,
      });
    assert.equal((await post({})).status, 401, 'unsigned');
    const wrong = ClusterSecret.fromConfig('not-the-cluster-secret-0123456789abcdef', false);
    assert.equal(
      (await post(wrong.requestHeaders({ method: 'POST', path: PEER_EXPORT_PATH, body: relayBody }))).status,
      401,
      'signed with another secret',
    );
    const right = ClusterSecret.fromConfig(cluster.secret, false);
    const stale = right.requestHeaders(
      { method: 'POST', path: PEER_EXPORT_PATH, body: relayBody },
      Date.now() - 120_000,
    );
    assert.equal((await post(stale)).status, 401, 'stale');
    const signed = await post(right.requestHeaders({ method: 'POST', path: PEER_EXPORT_PATH, body: relayBody }));
    assert.equal(signed.status, 200, 'signed with the cluster secret');
    assert.deepEqual(((await signed.json()) as { answers: unknown[] }).answers, [], 'no such replica here: nothing');
  });
});
