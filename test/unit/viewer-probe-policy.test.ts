// Warm mode's probe policy (viewer/probe-policy.ts) on a fake clock: a probe
// proves its stream deliverable and is paused as soon as the shown stream is
// fresh again; false alarms make the next probe wait for a longer suspicion
// (bounded, so a hung stream is still probed), and a needed probe clears that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PROBE_TIMINGS, ProbePolicy, type ProbeCheck } from '../../viewer/probe-policy.js';

const T = DEFAULT_PROBE_TIMINGS;
/** The stream manager's stale check interval. */
const CHECK_MS = 40;

/** Drives a policy every CHECK_MS like the stream manager does; resumes 'standby-b' when told to start. */
function driver(p = new ProbePolicy()) {
  let now = 1000;
  const decisions: Array<{ at: number; d: 'start' | 'end' }> = [];
  const run = (ms: number, shown: ProbeCheck['shown'], probePresented = true): void => {
    const until = now + ms;
    while (now < until) {
      now += CHECK_MS;
      const d = p.check({ now, shown, probePresented: p.replicaId !== null && probePresented });
      if (d === 'start') p.started('standby-b', now);
      if (d) decisions.push({ at: now, d });
    }
  };
  return { p, run, decisions, now: () => now };
}

test('a probe starts at the first suspect check, and ends once it presented a frame and the shown stream is fresh', () => {
  const { p, run, decisions, now } = driver();
  run(400, 'fresh');
  assert.equal(decisions.length, 0, 'a fresh stream is never probed');
  run(CHECK_MS, 'suspect');
  assert.equal(p.replicaId, 'standby-b');
  const startedAt = decisions[0]?.at ?? 0;
  run(200, 'suspect');
  assert.equal(decisions.length, 1, 'no second probe while one runs, and none ends while the shown stream is suspect');
  const freshFrom = now() + CHECK_MS;
  run(T.lingerMs - CHECK_MS, 'fresh');
  assert.equal(p.replicaId, 'standby-b', 'fresh for less than the linger: still probing');
  run(2 * CHECK_MS, 'fresh');
  assert.equal(p.replicaId, null);
  const endedAt = decisions[1]?.at ?? 0;
  assert.ok(endedAt - freshFrom >= T.lingerMs && endedAt - freshFrom < T.lingerMs + CHECK_MS);
  assert.deepEqual(
    decisions.map((x) => x.d),
    ['start', 'end'],
  );
  const lasted = (decisions[1]?.at ?? 0) - startedAt;
  assert.ok(lasted <= 200 + T.lingerMs + 2 * CHECK_MS, `the probe played ${lasted} ms`);
  assert.deepEqual(p.counts, { suspicions: 1, started: 1, falseAlarms: 1 });
});

test('a probe that has shown no frame yet is kept until it does (its stream is proven deliverable), or until maxMs', () => {
  const { p, run, decisions } = driver();
  run(CHECK_MS, 'suspect');
  run(2 * T.lingerMs, 'fresh', false);
  assert.equal(p.replicaId, 'standby-b', 'the shown stream recovered, but the probe has presented nothing');
  run(CHECK_MS, 'fresh', true);
  assert.equal(p.replicaId, null, 'its first frame ends it at once (the shown stream was fresh long enough)');

  // A standby that never delivers is given up after maxMs, and no probe starts during the cooldown.
  const q = driver();
  q.run(CHECK_MS, 'suspect');
  const start = q.now();
  q.run(T.maxMs + CHECK_MS, 'suspect', false);
  assert.equal(q.p.replicaId, null);
  const ended = q.decisions.find((x) => x.d === 'end');
  assert.ok(ended && ended.at - start >= T.maxMs && ended.at - start < T.maxMs + 2 * CHECK_MS);
  q.run(T.cooldownMs - 2 * CHECK_MS, 'suspect');
  assert.equal(q.p.replicaId, null, 'cooling down');
  q.run(3 * CHECK_MS, 'suspect');
  assert.equal(q.p.replicaId, 'standby-b', 'probing again after the cooldown');
  assert.equal(q.p.counts.falseAlarms, 0, 'an expired probe is no false alarm');
  assert.equal(p.counts.falseAlarms, 1);
  assert.equal(decisions.length, 2);
});

test('false alarms make the next probe wait for a longer suspicion, doubling up to holdMaxMs; a short hiccup is not probed', () => {
  const { p, run, decisions, now } = driver();
  const holds: number[] = [];
  for (let i = 0; i < 6; i++) {
    // A suspicion that lasts long enough for any hold, then the shown stream recovers by itself.
    run(T.holdMaxMs + 2 * CHECK_MS, 'suspect');
    run(T.lingerMs + CHECK_MS, 'fresh');
    holds.push(p.holdMs);
  }
  assert.deepEqual(holds, [150, 300, 400, 400, 400, 400]);
  assert.equal(p.counts.started, 6);
  assert.equal(p.counts.falseAlarms, 6);
  // Every probe after the first started once the suspicion had lasted the hold in force.
  const starts = decisions.filter((x) => x.d === 'start');
  assert.equal(starts.length, 6);

  // A hiccup shorter than the hold: no probe.
  const before = p.counts;
  run(T.holdMaxMs - 2 * CHECK_MS, 'suspect');
  run(200, 'fresh');
  assert.equal(p.counts.started, before.started, 'the suspicion ended before the hold');
  assert.equal(p.counts.suspicions, before.suspicions + 1, 'it is counted as a suspicion');
  // A hung stream stays suspect: probed within holdMaxMs (+ one check) of its first suspect check.
  const hungAt = now();
  run(T.holdMaxMs + CHECK_MS, 'suspect');
  const probe = decisions.filter((x) => x.d === 'start').at(-1);
  assert.ok(probe && probe.at > hungAt && probe.at - hungAt <= T.holdMaxMs + CHECK_MS, 'the hung stream is probed');
});

test('the hold clears after holdResetMs without a false alarm, and at once when a probe was needed (a switch to it)', () => {
  const { p, run } = driver();
  run(CHECK_MS, 'suspect');
  run(T.lingerMs + CHECK_MS, 'fresh');
  run(T.holdStepMs + 2 * CHECK_MS, 'suspect');
  run(T.lingerMs + CHECK_MS, 'fresh');
  assert.equal(p.holdMs, 2 * T.holdStepMs);
  run(T.holdResetMs, 'fresh');
  assert.equal(p.holdMs, 0, 'quiet for holdResetMs');
  run(CHECK_MS, 'suspect');
  assert.equal(p.replicaId, 'standby-b', 'probed at the first suspect check again');
  run(T.lingerMs + CHECK_MS, 'fresh');
  assert.equal(p.holdMs, T.holdStepMs);

  // The next probe finds the shown stream stale and the viewer switches to it: the hold is cleared.
  run(T.holdStepMs + CHECK_MS, 'suspect');
  assert.equal(p.replicaId, 'standby-b');
  p.switchedTo('another-standby');
  assert.equal(p.replicaId, 'standby-b', 'a switch to another stream leaves the probe alone');
  p.switchedTo('standby-b');
  assert.equal(p.replicaId, null);
  assert.equal(p.holdMs, 0);
  const falseAlarms = p.counts.falseAlarms;
  run(T.lingerMs * 2, 'fresh');
  assert.equal(p.counts.falseAlarms, falseAlarms, 'a probe that was switched to is no false alarm');

  // A probe whose stream went away is forgotten without a verdict; the next suspicion probes again.
  run(CHECK_MS, 'suspect');
  assert.equal(p.replicaId, 'standby-b');
  p.dropped();
  assert.equal(p.replicaId, null);
  assert.equal(p.holdMs, 0);
  run(CHECK_MS, 'suspect');
  assert.equal(p.replicaId, 'standby-b');
});

test('a stale verdict neither starts a probe nor ends one (the stream manager switches instead)', () => {
  const { p, run, decisions } = driver();
  run(400, 'stale');
  assert.equal(decisions.length, 0);
  run(CHECK_MS, 'suspect');
  run(T.maxMs - 2 * CHECK_MS, 'stale');
  assert.equal(p.replicaId, 'standby-b');
});
