import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STALE_RESUME_GRACE_MS, STALE_STREAM_MS } from '../../protocol/freshness.js';
import { HeadTracker } from '../../viewer/head-tracker.js';
import { isStale, scoreStream, type StreamObservation } from '../../viewer/health-score.js';
import type { ReplicaInfo } from '../../protocol/session.js';

function replica(over: Partial<ReplicaInfo> = {}, health: Partial<ReplicaInfo['health']> = {}): ReplicaInfo {
  return {
    replicaId: 'r1',
    sessionId: 's1',
    nodeId: 'n1',
    hostId: 'h1',
    state: 'live',
    producerId: 'p1',
    appliedSeq: 10,
    stateHash: null,
    selection: null,
    ...over,
    health: { heartbeatAgeMs: 200, lagSeq: 0, producerScore: 10, ...health },
  };
}

const NOW = 100_000;

function obs(over: Partial<StreamObservation> = {}): StreamObservation {
  return {
    now: NOW,
    replica: replica(),
    consumedProducerId: 'p1',
    consumerClosed: false,
    active: true,
    activeSince: NOW - 10_000,
    fps: 30,
    lastFrameAt: NOW - 20,
    recentFreezes: 0,
    displayedSeq: 10,
    knownHeadSeq: 10,
    behindForMs: 0,
    packetLoss: 0,
    rttMs: 20,
    consumerScore: 10,
    ...over,
  };
}

test('a healthy live stream scores 100 with no hard failure', () => {
  const s = scoreStream(obs());
  assert.equal(s.score, 100);
  assert.equal(s.hardFailure, false);
});

test('stale frames drop the score sharply; a frozen stream is a hard failure', () => {
  const fresh = scoreStream(obs()).score;
  const stale = scoreStream(obs({ lastFrameAt: NOW - 700, fps: 2 }));
  assert.ok(stale.score <= fresh - 40, `stale ${stale.score} vs fresh ${fresh}`);
  assert.equal(stale.hardFailure, false);
  // Renderers re-send a frame every 200 ms when idle: 900+ ms of silence is a hung or cut-off host.
  const frozen = scoreStream(obs({ lastFrameAt: NOW - 1500, fps: 0 }));
  assert.equal(frozen.hardFailure, true);
  assert.match(frozen.reasons[0] ?? '', /^frozen/);
  // A paused warm standby delivers no frames by design: not frozen.
  assert.equal(scoreStream(obs({ active: false, lastFrameAt: NOW - 5000, fps: 0 })).hardFailure, false);
});

test('a shown stream that has not reflected an acknowledged input within the shared bound is stale: a hard failure', () => {
  const lagging = scoreStream(obs({ displayedSeq: 9, knownHeadSeq: 10, behindForMs: STALE_STREAM_MS + 1 }));
  assert.equal(lagging.hardFailure, true);
  assert.match(lagging.reasons[0] ?? '', /^stale: input not shown/);
  // Ordinary input-to-photon delay is not stale.
  assert.equal(scoreStream(obs({ behindForMs: STALE_STREAM_MS })).hardFailure, false);
  assert.equal(scoreStream(obs({ behindForMs: 120 })).hardFailure, false);
  // A paused standby shows nothing by design.
  assert.equal(scoreStream(obs({ active: false, behindForMs: 5000 })).hardFailure, false);
});

test('a just-resumed stream gets a short grace to catch up, then the same rule applies', () => {
  const at = (sinceResume: number) =>
    scoreStream(obs({ behindForMs: 5000, activeSince: NOW - sinceResume, lastFrameAt: NOW - 10 })).hardFailure;
  assert.equal(at(STALE_RESUME_GRACE_MS - 1), false);
  assert.equal(at(STALE_RESUME_GRACE_MS), true);
});

test('the stale rule over a fake clock: a hung host while typing is caught within the bound of the unshown input', () => {
  // Inputs acked every 50 ms (sent at t); the shown stream stops reflecting them after seq 10 at t = 500.
  const heads = new HeadTracker();
  let displayed = 0;
  let caughtAt: number | null = null;
  for (let t = 0; t <= 2000; t += 10) {
    if (t % 50 === 0) heads.note(t / 50, t);
    if (t <= 500) displayed = Math.max(0, Math.floor((t - 40) / 50)); // 40 ms input-to-photon
    const o = { now: t, active: true, activeSince: -10_000, behindForMs: heads.behindForMs(displayed, t) };
    if (caughtAt === null && isStale(o)) caughtAt = t;
    if (t < 500) assert.equal(isStale(o), false, `fault-free typing is never stale (t=${t})`);
  }
  // Seq 10, sent at 500, is the first never shown: stale once it is older than the bound.
  assert.ok(caughtAt !== null && caughtAt > 500 && caughtAt <= 500 + STALE_STREAM_MS + 10, `caught at ${caughtAt}`);
});

test('no frames after the resume grace period scores low; within it there is no penalty', () => {
  assert.ok(scoreStream(obs({ lastFrameAt: null, activeSince: NOW - 5000 })).score <= 40);
  assert.equal(scoreStream(obs({ lastFrameAt: null, activeSince: NOW - 500, fps: 0 })).score, 100);
});

test('hard failures: consumer closed, producer gone or replaced, replica not live, replica gone, heartbeat lost', () => {
  const cases: Array<[string, Partial<StreamObservation>]> = [
    ['consumer closed', { consumerClosed: true }],
    ['producer gone', { replica: replica({ producerId: null }) }],
    ['producer replaced', { replica: replica({ producerId: 'p2' }) }],
    ['quarantined', { replica: replica({ state: 'quarantined' }) }],
    ['catching up', { replica: replica({ state: 'catching-up' }) }],
    ['replica gone', { replica: undefined }],
    ['heartbeat', { replica: replica({}, { heartbeatAgeMs: 6000 }) }],
  ];
  for (const [name, over] of cases) {
    const s = scoreStream(obs(over));
    assert.equal(s.hardFailure, true, name);
    assert.equal(s.score, 0, name);
  }
});

test('server view penalties: heartbeat age, lag, producer score', () => {
  assert.ok(scoreStream(obs({ replica: replica({}, { heartbeatAgeMs: 3500 }) })).score < 90);
  assert.ok(scoreStream(obs({ replica: replica({}, { lagSeq: 20 }) })).score <= 70);
  assert.ok(scoreStream(obs({ replica: replica({}, { producerScore: 4 }) })).score <= 82);
  assert.equal(scoreStream(obs({ replica: replica({}, { producerScore: null, lagSeq: 2 }) })).score, 100);
});

test('showing an old seq for long costs points; a brief lag does not', () => {
  assert.equal(scoreStream(obs({ displayedSeq: 9, knownHeadSeq: 10, behindForMs: 200 })).score, 100);
  assert.ok(scoreStream(obs({ displayedSeq: 5, knownHeadSeq: 10, behindForMs: 3000 })).score <= 60);
});

test('packet loss, RTT, consumer score and freezes lower the score', () => {
  assert.ok(scoreStream(obs({ packetLoss: 0.1 })).score <= 75);
  assert.ok(scoreStream(obs({ rttMs: 600 })).score <= 85);
  assert.ok(scoreStream(obs({ consumerScore: 3 })).score <= 86);
  assert.ok(scoreStream(obs({ recentFreezes: 2 })).score <= 90);
});

test('a paused warm standby is judged on the server view with a fixed unknown-client penalty', () => {
  const s = scoreStream(obs({ active: false, activeSince: null, fps: null, lastFrameAt: null, displayedSeq: null }));
  assert.equal(s.hardFailure, false);
  assert.equal(s.score, 90);
});

test('scores stay within 0..100', () => {
  const s = scoreStream(
    obs({
      lastFrameAt: NOW - 800,
      fps: 0,
      packetLoss: 1,
      rttMs: 5000,
      consumerScore: 0,
      recentFreezes: 10,
      replica: replica({}, { lagSeq: 500, heartbeatAgeMs: 1700, producerScore: 0 }),
    }),
  );
  assert.equal(s.score, 0);
  assert.equal(s.hardFailure, false);
});

test('a replica the server reports stale (no status for ~1.5 s: hung or cut off) is never a candidate', () => {
  assert.equal(scoreStream(obs({ active: false, replica: replica({}, { heartbeatAgeMs: 1900 }) })).hardFailure, true);
  assert.equal(scoreStream(obs({ active: false, replica: replica({}, { heartbeatAgeMs: 600 }) })).hardFailure, false);
});
