// The short chaos run (part of npm test): renderer hosts in their own network
// namespaces (loopback processes where namespaces are unavailable), a typist
// in Chromium, and crashes, hangs, partitions, slow hosts and a server
// restart. Nothing typed may be lost, every replica must agree at the end,
// every fault on a serving host must be detected and R restored, and a faulty
// host's stale picture must never stay on screen.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChaos } from '../../scripts/lib/chaos-run.js';

describe('chaos (short run)', () => {
  it('survives crashes, hangs, partitions, slow hosts and a server restart', async (t) => {
    const seed = Number(process.env.LOCKSTEP_CHAOS_SEED ?? 7);
    const report = await runChaos({
      seconds: Number(process.env.LOCKSTEP_CHAOS_TEST_SECONDS ?? 30),
      keysPerSecond: 20,
      hosts: 4,
      replicationFactor: 3,
      serverRestarts: 1,
      faultMs: 5000,
      seed,
      width: 480,
      height: 320,
      log: (l) => t.diagnostic(l),
    });
    t.diagnostic(JSON.stringify(report.byKind));
    assert.ok(report.faults.length >= 3, `only ${report.faults.length} faults injected`);
    assert.equal(report.lostInputs, 0, 'no keystroke lost');
    assert.ok(report.textMatches, 'every replica state holds exactly what was typed');
    assert.ok(report.hashesEqual, `final hashes differ: ${report.finalHashes.join(', ')}`);
    assert.equal(report.staleShown, 0, 'a faulty host’s stale picture stayed on screen');
    for (const f of report.faults) {
      assert.notEqual(f.restoreMs, null, `R not restored after ${f.kind} of ${f.hostId}`);
      if (f.kind === 'crash' || f.kind === 'hang' || f.kind === 'partition') {
        assert.notEqual(f.detectMs, null, `${f.kind} of ${f.hostId} never detected`);
      }
      if (f.shown) assert.notEqual(f.visibleGapMs, null, `the picture never recovered after ${f.kind} of ${f.hostId}`);
    }
  });
});
