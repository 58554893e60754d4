// The short cluster chaos run (about 45 s of typing, then until every fault
// kind was injected once): 3 servers over 3 etcd members, 3 renderer nodes,
// a typist in Chromium; SIGKILL of the server the viewer's inputs go through,
// of the one homing the shown replica, of one homing nothing the viewer uses,
// SIGSTOP of a server, a server's partition (namespaces only), SIGKILL of the
// etcd leader, a whole server machine down. Nothing typed may be lost, the
// replicas must agree, and after every fault the session must carry on
// (inputs typed after it acknowledged and shown) without the part that failed.
// Needs the viewer that talks to every server: with a viewer tied to the
// server its page came from, killing that server stops its session.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLUSTER_FAULT_KINDS, runClusterChaos } from '../../scripts/lib/cluster-chaos-run.js';
import { namespacesAvailable } from '../../scripts/lib/host-network.js';

describe('cluster chaos (short run)', () => {
  it('survives every server and etcd fault kind with nothing lost', async (t) => {
    const report = await runClusterChaos({
      seconds: Number(process.env.LOCKSTEP_CHAOS_CLUSTER_TEST_SECONDS ?? 45),
      keysPerSecond: 20,
      servers: 3,
      nodes: 3,
      replicationFactor: 2,
      seed: Number(process.env.LOCKSTEP_CHAOS_SEED ?? 13),
      width: 480,
      height: 320,
      everyKind: true,
      log: (l) => t.diagnostic(l),
    });
    t.diagnostic(JSON.stringify(report.byKind));
    t.diagnostic(
      `typed ${report.typedChars}, in the document ${report.loggedKeystrokes}, lost ${report.lostInputs}; ` +
        `hashes ${report.finalHashes.join(', ')}`,
    );
    assert.equal(report.lostInputs, 0, 'no keystroke lost');
    assert.ok(report.textMatches, 'the document holds exactly what was typed');
    // The first fault the session did not carry on through is the one to look at.
    for (const f of report.faults) {
      assert.notEqual(f.carriedOnMs, null, `the session did not carry on after ${f.kind} of ${f.target}`);
      assert.notEqual(f.visibleGapMs, null, `the picture never moved on after ${f.kind} of ${f.target}`);
      if (f.rehomeNeeded) assert.notEqual(f.rehomeMs, null, `nodes never re-homed after ${f.kind} of ${f.target}`);
      if (f.reelectNeeded) assert.notEqual(f.reelectMs, null, `no new leader after ${f.kind} of ${f.target}`);
    }
    const expected = CLUSTER_FAULT_KINDS.filter((k) => k !== 'partition-server' || namespacesAvailable().ok);
    for (const kind of expected) {
      assert.ok(
        report.faults.some((f) => f.kind === kind),
        `${kind} was never injected (${report.skipped.map((x) => `${x.kind}: ${x.why}`).join('; ')})`,
      );
    }
    assert.ok(report.hashesEqual, `final hashes differ: ${report.finalHashes.join(', ')}`);
  });
});
