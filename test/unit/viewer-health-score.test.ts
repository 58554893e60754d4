import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreStream, type StreamObservation } from '../../viewer/health-score.js';
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
    staleReason: null,
    peerPresentingFrames: true,
    freshestPeerHeartbeatMs: 200,
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
  // Every stream silent alike (the box or the viewer starved): nobody is worse, no switch.
  assert.equal(scoreStream(obs({ lastFrameAt: NOW - 1500, fps: 0, peerPresentingFrames: false })).hardFailure, false);
  // A paused warm standby delivers no frames by design: not frozen.
  assert.equal(scoreStream(obs({ active: false, lastFrameAt: NOW - 5000, fps: 0 })).hardFailure, false);
});

test('a stream the stale rule judged stale is a hard failure with its reason; lateness alone is not', () => {
  const stale = scoreStream(obs({ displayedSeq: 9, behindForMs: 400, staleReason: 'stale: input not shown in 400ms' }));
  assert.equal(stale.hardFailure, true);
  assert.equal(stale.reasons[0], 'stale: input not shown in 400ms');
  // Late without a stale verdict (every replica late alike): points at most, no switch at once.
  assert.equal(scoreStream(obs({ displayedSeq: 9, knownHeadSeq: 10, behindForMs: 1400 })).hardFailure, false);
  // A paused standby shows nothing by design.
  assert.equal(scoreStream(obs({ active: false, behindForMs: 5000, staleReason: 'stale' })).hardFailure, false);
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
    ['heartbeat, no other replica', { replica: replica({}, { heartbeatAgeMs: 6000 }), freshestPeerHeartbeatMs: null }],
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

test("a lost heartbeat is this host's fault only when another replica's node reports on time", () => {
  const late = (peer: number | null) =>
    scoreStream(obs({ replica: replica({}, { heartbeatAgeMs: 2500 }), freshestPeerHeartbeatMs: peer })).hardFailure;
  assert.equal(late(200), true);
  assert.equal(late(2400), false, 'every node late alike: the server or the box is starved');
});
