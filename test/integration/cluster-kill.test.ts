// SIGKILL of any one server while inputs stream (real processes): a 3-member
// etcd, 3 servers over it and 3 renderer nodes given every server's URL. A
// headless client types through one server and resends the same (client id,
// client seq) through another when no ack arrives. Each server kind is
// SIGKILLed in turn: the one receiving the inputs, one homing a replica (not
// receiving inputs), the Lockstep leader. While the killed server is down the
// typing carries on and every replica converges without it; only then is it
// started again. At the end every acknowledged input is in the log exactly
// once at the seq its ack named, the seqs are dense, the document is exactly
// what was typed and the replicas' hashes are equal.
// (A fenced old leader's refused write is covered by cluster-election.test.ts.)
// Also a smoke test of `npm run demo:cluster`, which starts the same cluster.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ClusterServer } from '../../scripts/lib/local-cluster.js';
import {
  assertTypedExactlyOnce,
  loopbackClusterForSuite,
  ClusterTyping,
  liveClusterSession,
} from '../helpers/cluster-session.js';
import { ROOT } from '../helpers/processes.js';
import type { TypedInput } from '../helpers/resending-typist.js';
import { waitFor } from '../helpers/viewer-client.js';

const W = 480;
const H = 320;
const CLIENT_ID = 'kill-typist';
const WORDS = 'no single server matters ';

type Kind = 'receiving-inputs' | 'homing-a-replica' | 'leader';

describe('SIGKILL of any one server while inputs stream (3 servers over a 3-member etcd)', () => {
  const suiteCluster = loopbackClusterForSuite();

  it('loses no acknowledged input, logs each once, converges without the killed server', async (t) => {
    const cluster = suiteCluster();
    const sessionId = await liveClusterSession(cluster, cluster.nodes.length, { width: W, height: H });

    const typing = new ClusterTyping(cluster, sessionId, CLIENT_ID, WORDS);
    const { typist } = typing;
    const type = (n: number): Promise<TypedInput[]> => typing.type(n);

    try {
      await type(20);
      const kinds: Kind[] = ['receiving-inputs', 'homing-a-replica', 'leader'];
      for (const kind of kinds) {
        const inputs = cluster.servers.find((s) => s.url === typist.preferredUrl);
        const homes = await cluster.nodeHomes();
        const leaderId = await waitFor('a Lockstep leader', async () => (await cluster.leaderId()) ?? undefined);
        let target: ClusterServer | undefined;
        if (kind === 'receiving-inputs') target = inputs;
        else if (kind === 'leader') target = cluster.serverById(leaderId);
        else target = cluster.servers.find((s) => s !== inputs && [...homes.values()].includes(s.id));
        assert.ok(target, `a server of kind ${kind} (homes ${JSON.stringify([...homes])}, leader ${leaderId})`);

        // Typing runs while the kill lands.
        const during = type(40);
        await new Promise((r) => setTimeout(r, 400));
        const killedAt = Date.now();
        await cluster.killServer(target.index);
        const acked = await during;
        const stall = Math.max(...acked.filter((a) => a.sentAt + a.ackMs >= killedAt).map((a) => a.ackMs), 0);
        // With the server still down: more typing, and every replica (re-homed) converges on the head.
        const more = await type(20);
        const head = more.at(-1)?.seq ?? 0;
        const hashes = await waitFor(
          `replicas converged at ${head} without ${target.id}`,
          () => cluster.convergedAt(sessionId, head),
          45_000,
          200,
        );
        const newLeader = await waitFor('a leader among the live servers', async () => {
          const id = await cluster.leaderId();
          return id && id !== target.id ? id : undefined;
        });
        t.diagnostic(
          `${kind}: killed ${target.id}; longest keydown→ack while it died ${stall} ms; ` +
            `converged (${hashes.length} replicas) without it; leader now ${newLeader}`,
        );
        await cluster.startServer(target.index);
      }
      await type(10);
    } finally {
      typing.close();
    }

    // The log: every acknowledged input once, at the seq its ack named, seqs dense from 1.
    const acked = typist.acked;
    const { head } = await cluster.sessionReplicas(sessionId);
    assert.ok(head >= (acked.at(-1)?.seq ?? 0), 'the head covers every ack');
    await waitFor('converged at the end', () => cluster.convergedAt(sessionId, head), 45_000, 200);
    const others = await assertTypedExactlyOnce(cluster, sessionId, {
      clientId: CLIENT_ID,
      acked,
      typed: typing.typed,
      width: W,
      height: H,
    });
    t.diagnostic(`other inputs in the log: ${others.join(', ')}`);
    const resent = acked.filter((a) => a.resends > 0).length;
    t.diagnostic(`${acked.length} inputs acknowledged, ${resent} after a resend through another server`);
  });
});

describe('npm run demo:cluster (smoke)', () => {
  it('serves one session from every server, prints how to kill each part, and Ctrl-C stops them all', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/demo-cluster.ts')], {
      cwd: ROOT,
      env: { ...process.env, LOCKSTEP_DEMO_LOOPBACK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await waitFor('the demo printed how to kill its parts', () => out.includes('Ctrl-C stops everything'), 120_000);
    const links = [...out.matchAll(/server-\d:\s+(http:\/\/\S+)\/\?session=(\S+)&token=(\S+)/g)];
    assert.equal(links.length, 3, `three viewer links:\n${out}`);
    for (const [, origin, sessionId, token] of links) {
      const res = await fetch(`${origin}/api/sessions/${sessionId}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, `${origin} serves the session`);
    }
    const pids = [...out.matchAll(/kill -9 (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(pids.length, 3 + 3 + 3, 'a pid for each server, etcd member and node');
    child.kill('SIGINT');
    assert.equal(await exited, 0, 'Ctrl-C exits cleanly');
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(alive, [], 'every part it started is gone');
  });
});
