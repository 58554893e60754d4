// A silent home server (issue 13 follow-up): SIGSTOP keeps its sockets open,
// as a partition does, so the nodes homed there notice only through their own
// link watch (render/link-watch.ts, protocol/node-liveness.ts). Real
// processes: a 3-member etcd, 3 servers, 3 renderer nodes given every URL, a
// client typing (resending through another server when no ack comes). A stop
// shorter than the silence bound moves nobody; a longer one moves every node
// homed there to a live server within a loose bound (socket.io alone took
// 5-10 s), the replicas adopted (the same replica ids, not rebuilt). At the
// end every acknowledged input is in the log exactly once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NODE_SILENCE_MS } from '../../protocol/node-liveness.js';
import type { ClusterServer } from '../../scripts/lib/local-cluster.js';
import {
  assertTypedExactlyOnce,
  loopbackClusterForSuite,
  ClusterTyping,
  liveClusterSession,
} from '../helpers/cluster-session.js';
import { waitFor } from '../helpers/viewer-client.js';

const W = 480;
const H = 320;
const CLIENT_ID = 'silent-home-typist';
const WORDS = 'a silent server loses its nodes ';
/** Loose (the box is loaded): the bound plus a reconnect and a registration, well under socket.io's 5-10 s. */
const REHOME_WITHIN_MS = NODE_SILENCE_MS + 1500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a SIGSTOPped home server: its nodes stay through a short stop and re-home after a long one', () => {
  const suiteCluster = loopbackClusterForSuite();

  it('no move under the bound, a move within it past the bound, every acked input logged once', async (t) => {
    const cluster = suiteCluster();
    const sessionId = await liveClusterSession(cluster, cluster.nodes.length, { width: W, height: H });
    const typing = new ClusterTyping(cluster, sessionId, CLIENT_ID, WORDS);
    const { typist } = typing;
    let target: ClusterServer | undefined;
    try {
      await typing.type(20);
      const homes = await cluster.nodeHomes();
      const homing = cluster.servers.filter((s) => [...homes.values()].includes(s.id));
      target = homing.find((s) => s.url !== typist.preferredUrl) ?? homing[0];
      assert.ok(target, `a server homing a node (homes ${JSON.stringify([...homes])})`);
      const stopped = target;
      const onTarget = [...homes].filter(([, server]) => server === stopped.id).map(([host]) => host);
      const replicaIds = new Set((await cluster.sessionReplicas(sessionId)).replicas.map((r) => r.replicaId));

      // Shorter than the bound: a slow server, not a dead one.
      const during = typing.type(20);
      cluster.pauseServer(stopped.index);
      await sleep(NODE_SILENCE_MS / 2);
      cluster.resumeServer(stopped.index);
      await during;
      await sleep(NODE_SILENCE_MS);
      const afterShort = await cluster.nodeHomes();
      for (const host of onTarget) {
        assert.equal(afterShort.get(host), stopped.id, `${host} stayed on ${stopped.id} through a short stop`);
      }

      // Longer than the bound: every node homed there moves to a live server.
      const pausedAt = Date.now();
      cluster.pauseServer(stopped.index);
      const typed = typing.type(30);
      const rehomeMs = await waitFor(
        `${onTarget.join(', ')} re-homed off ${stopped.id}`,
        async () => {
          const h = await cluster.nodeHomes().catch(() => null);
          const live = new Set(cluster.liveServers().map((s) => s.id));
          const moved = h !== null && onTarget.every((host) => live.has(h.get(host) ?? ''));
          return moved ? Date.now() - pausedAt : undefined;
        },
        20_000,
        50,
      );
      await typed;
      // With it still stopped: more typing, and the replicas (adopted, not rebuilt) converge on the head.
      const more = await typing.type(20);
      const head = more.at(-1)?.seq ?? 0;
      await waitFor(
        `converged at ${head} without ${stopped.id}`,
        () => cluster.convergedAt(sessionId, head),
        45_000,
        200,
      );
      const now = (await cluster.sessionReplicas(sessionId)).replicas.map((r) => r.replicaId);
      assert.deepEqual(new Set(now), replicaIds, 'the same replicas: adopted, not rebuilt');
      t.diagnostic(`${onTarget.join(', ')} re-homed off the stopped ${stopped.id} in ${rehomeMs} ms`);
      assert.ok(rehomeMs < REHOME_WITHIN_MS, `re-homed in ${rehomeMs} ms (bound ${REHOME_WITHIN_MS})`);
      cluster.resumeServer(stopped.index);
      await typing.type(10);
    } finally {
      if (target?.paused) cluster.resumeServer(target.index);
      typing.close();
    }

    const acked = typist.acked;
    const { head } = await cluster.sessionReplicas(sessionId);
    assert.ok(head >= (acked.at(-1)?.seq ?? 0), 'the head covers every ack');
    await waitFor('converged at the end', () => cluster.convergedAt(sessionId, head), 45_000, 200);
    await assertTypedExactlyOnce(cluster, sessionId, {
      clientId: CLIENT_ID,
      acked,
      typed: typing.typed,
      width: W,
      height: H,
    });
    t.diagnostic(`${acked.length} inputs acknowledged, ${acked.filter((a) => a.resends > 0).length} after a resend`);
  });
});
