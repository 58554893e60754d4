// Replica health verdicts over explicit time, and the state-hash majority vote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ReplicaHealthTracker,
  voteOnHashes,
  DEFAULT_HEALTH_THRESHOLDS,
  type HashReport,
} from '../../server/session-core/replica-health.js';

const H1 = '1111111111111111';
const H2 = '2222222222222222';
const H3 = '3333333333333333';

function status(appliedSeq: number, framesSent: number, stateHash = H1) {
  return { appliedSeq, stateHash, framesSent };
}

test('defaults are 1500 / 5000 / 50', () => {
  const t = new ReplicaHealthTracker();
  assert.equal(t.thresholds.staleAfterMs, 1500);
  assert.equal(t.thresholds.deadAfterMs, 5000);
  assert.equal(t.thresholds.laggingSeq, 50);
  assert.equal(DEFAULT_HEALTH_THRESHOLDS.staleAfterMs, 1500);
});

test('bad thresholds are refused', () => {
  assert.throws(() => new ReplicaHealthTracker({ staleAfterMs: 2000, deadAfterMs: 1000 }), RangeError);
  assert.throws(() => new ReplicaHealthTracker({ staleAfterMs: 0 }), RangeError);
});

test('healthy → stale → dead as the status ages', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(0, 10), 1000);
  assert.equal(t.assess('r1', 1000)?.verdict, 'healthy');
  assert.equal(t.assess('r1', 2500)?.verdict, 'healthy'); // exactly 1500: not yet "more than"
  const stale = t.assess('r1', 2501);
  assert.equal(stale?.verdict, 'stale');
  assert.equal(stale?.reason, 'no-status');
  assert.equal(stale?.health.heartbeatAgeMs, 1501);
  assert.equal(t.assess('r1', 6000)?.verdict, 'stale');
  assert.equal(t.assess('r1', 6001)?.verdict, 'dead');
  // A fresh status (with frames moving) revives it.
  t.onStatus('r1', status(0, 20), 7000);
  assert.equal(t.assess('r1', 7000)?.verdict, 'healthy');
});

test('a tracked replica that never reports goes stale then dead', () => {
  const t = new ReplicaHealthTracker();
  t.track('r1', 0);
  assert.equal(t.assess('r1', 100)?.verdict, 'healthy');
  assert.equal(t.assess('r1', 1600)?.verdict, 'stale');
  assert.equal(t.assess('r1', 5100)?.verdict, 'dead');
  assert.equal(t.assess('nope', 0), undefined);
});

test('custom thresholds are honoured', () => {
  const t = new ReplicaHealthTracker({ staleAfterMs: 100, deadAfterMs: 200, laggingSeq: 5 });
  t.onStatus('r1', status(0, 1), 0);
  assert.equal(t.assess('r1', 150)?.verdict, 'stale');
  assert.equal(t.assess('r1', 250)?.verdict, 'dead');
  t.onStatus('r1', status(0, 2), 300);
  t.setHeadSeq(6);
  assert.equal(t.assess('r1', 300)?.verdict, 'lagging');
});

test('lag is head minus applied; more than laggingSeq is lagging', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(100, 5), 0);
  t.setHeadSeq(150);
  assert.equal(t.assess('r1', 0)?.health.lagSeq, 50);
  assert.equal(t.assess('r1', 0)?.verdict, 'healthy');
  t.setHeadSeq(151);
  const a = t.assess('r1', 0);
  assert.equal(a?.health.lagSeq, 51);
  assert.equal(a?.verdict, 'lagging');
  assert.equal(a?.reason, 'lag');
  t.setHeadSeq(10); // head never moves back
  assert.equal(t.headSeq, 151);
  t.onStatus('r1', status(151, 6), 100);
  assert.equal(t.assess('r1', 100)?.health.lagSeq, 0);
  assert.equal(t.assess('r1', 100)?.verdict, 'healthy');
});

test('stale outranks lagging', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(0, 5), 0);
  t.setHeadSeq(500);
  assert.equal(t.assess('r1', 0)?.verdict, 'lagging');
  assert.equal(t.assess('r1', 2000)?.verdict, 'stale');
});

test('frames not increasing for more than staleAfterMs while statuses keep coming = stale', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(1, 100), 0);
  t.onStatus('r1', status(2, 100), 500);
  t.onStatus('r1', status(3, 100), 1000);
  t.onStatus('r1', status(4, 100), 1500);
  assert.equal(t.assess('r1', 1500)?.verdict, 'healthy'); // 1500 of no progress is not "more than"
  t.onStatus('r1', status(5, 100), 2000);
  const a = t.assess('r1', 2000);
  assert.equal(a?.verdict, 'stale');
  assert.equal(a?.reason, 'frames-stalled');
  assert.equal(a?.health.heartbeatAgeMs, 0); // the node is reporting fine
  // Video resumes: healthy again.
  t.onStatus('r1', status(6, 130), 2500);
  assert.equal(t.assess('r1', 2500)?.verdict, 'healthy');
});

test('a frame counter that restarts lower counts as movement, not a stall', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(1, 500), 0);
  t.onStatus('r1', status(1, 3), 1000);
  t.onStatus('r1', status(1, 9), 2000);
  assert.equal(t.assess('r1', 2000)?.verdict, 'healthy');
});

test('no stall verdict before video has started (framesSent still 0 while booting)', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(0, 0), 0);
  t.onStatus('r1', status(0, 0), 1000);
  t.onStatus('r1', status(0, 0), 2000);
  assert.equal(t.assess('r1', 2000)?.verdict, 'healthy');
});

test('a delayed older status does not roll the view back', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(10, 50), 1000);
  t.onStatus('r1', status(5, 40), 900);
  assert.equal(t.assess('r1', 1000)?.appliedSeq, 10);
});

test('producer score is reported as is, null before the first score', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(0, 1), 0);
  assert.equal(t.health('r1', 0)?.producerScore, null);
  t.onProducerScore('r1', 7);
  assert.deepEqual(t.health('r1', 10), { heartbeatAgeMs: 10, lagSeq: 0, producerScore: 7 });
  t.onProducerScore('ghost', 3); // unknown replicas are ignored
  assert.equal(t.has('ghost'), false);
});

test('an idle stream (nobody watches it) reports no producer score, a watched one its score again', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(0, 1), 0);
  t.onProducerScore('r1', 10);
  t.onStatus('r1', { ...status(1, 1), videoIdle: true }, 100);
  t.onProducerScore('r1', 0); // the SFU: no RTP for 1.5 s
  assert.equal(t.health('r1', 200)?.producerScore, null);
  t.onStatus('r1', { ...status(2, 5), videoIdle: false }, 300);
  assert.equal(t.health('r1', 300)?.producerScore, 0, 'watched again: its score counts, 0 until its stream is back');
  t.onProducerScore('r1', 10);
  assert.equal(t.health('r1', 400)?.producerScore, 10);
});

test('forget drops a replica; assessAll is sorted by replicaId', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r2', status(0, 1), 0);
  t.onStatus('r1', status(0, 1), 0);
  t.onStatus('r3', status(0, 1), 0);
  t.forget('r3');
  assert.deepEqual(
    t.assessAll(0).map((a) => a.replicaId),
    ['r1', 'r2'],
  );
});

test('hashReports keeps a bounded history per replica and feeds the vote', () => {
  const t = new ReplicaHealthTracker({ hashHistory: 2 });
  t.onStatus('a', status(1, 1, H1), 0);
  t.onStatus('a', status(2, 2, H1), 10);
  t.onStatus('a', status(3, 3, H1), 20);
  t.onStatus('b', status(2, 2, H1), 10);
  t.onStatus('c', status(2, 2, H2), 10);
  const reports = t.hashReports();
  assert.deepEqual(
    reports.filter((r) => r.replicaId === 'a').map((r) => r.seq),
    [2, 3],
  );
  assert.deepEqual(voteOnHashes(reports), { seq: 2, majorityHash: H1, minority: ['c'], voters: ['a', 'b', 'c'] });
});

test('vote: three equal hashes → majority, no minority', () => {
  const v = voteOnHashes([
    { replicaId: 'a', seq: 10, stateHash: H1 },
    { replicaId: 'b', seq: 10, stateHash: H1 },
    { replicaId: 'c', seq: 10, stateHash: H1 },
  ]);
  assert.deepEqual(v, { seq: 10, majorityHash: H1, minority: [], voters: ['a', 'b', 'c'] });
});

test('vote: 2 vs 1 names the odd one out', () => {
  const v = voteOnHashes([
    { replicaId: 'c', seq: 10, stateHash: H1 },
    { replicaId: 'b', seq: 10, stateHash: H2 },
    { replicaId: 'a', seq: 10, stateHash: H1 },
  ]);
  assert.equal(v.majorityHash, H1);
  assert.deepEqual(v.minority, ['b']);
});

test('vote: 1-1 tie gives no majority and no minority', () => {
  const v = voteOnHashes([
    { replicaId: 'a', seq: 10, stateHash: H1 },
    { replicaId: 'b', seq: 10, stateHash: H2 },
  ]);
  assert.deepEqual(v, { seq: 10, majorityHash: null, minority: [], voters: ['a', 'b'] });
});

test('vote: 1-1-1 has no majority; 2-2 is a tie', () => {
  const three = voteOnHashes([
    { replicaId: 'a', seq: 4, stateHash: H1 },
    { replicaId: 'b', seq: 4, stateHash: H2 },
    { replicaId: 'c', seq: 4, stateHash: H3 },
  ]);
  assert.equal(three.majorityHash, null);
  assert.deepEqual(three.minority, []);
  const four = voteOnHashes([
    { replicaId: 'a', seq: 4, stateHash: H1 },
    { replicaId: 'b', seq: 4, stateHash: H1 },
    { replicaId: 'c', seq: 4, stateHash: H2 },
    { replicaId: 'd', seq: 4, stateHash: H2 },
  ]);
  assert.equal(four.majorityHash, null);
});

test('vote: reports at different seqs are never compared; highest seq with 2+ reporters wins', () => {
  const reports: HashReport[] = [
    { replicaId: 'a', seq: 12, stateHash: H3 }, // alone at 12: not comparable
    { replicaId: 'a', seq: 10, stateHash: H1 },
    { replicaId: 'b', seq: 10, stateHash: H1 },
    { replicaId: 'c', seq: 11, stateHash: H2 },
    { replicaId: 'b', seq: 11, stateHash: H2 },
  ];
  const v = voteOnHashes(reports);
  assert.equal(v.seq, 11);
  assert.equal(v.majorityHash, H2);
  assert.deepEqual(v.voters, ['b', 'c']);
  assert.deepEqual(v.minority, []);
});

test('vote: nothing comparable when every replica is at its own seq', () => {
  const v = voteOnHashes([
    { replicaId: 'a', seq: 1, stateHash: H1 },
    { replicaId: 'b', seq: 2, stateHash: H2 },
  ]);
  assert.deepEqual(v, { seq: null, majorityHash: null, minority: [], voters: [] });
  assert.deepEqual(voteOnHashes([]), { seq: null, majorityHash: null, minority: [], voters: [] });
});

test('vote: one replica reporting twice at a seq counts once (latest wins)', () => {
  const v = voteOnHashes([
    { replicaId: 'a', seq: 5, stateHash: H2 },
    { replicaId: 'a', seq: 5, stateHash: H1 },
    { replicaId: 'b', seq: 5, stateHash: H1 },
  ]);
  assert.deepEqual(v, { seq: 5, majorityHash: H1, minority: [], voters: ['a', 'b'] });
});

test('a flat frame counter of a stream nobody watches (videoIdle) is not a stall; once watched it is judged again', () => {
  const t = new ReplicaHealthTracker();
  t.onStatus('r1', status(1, 120), 0);
  for (const at of [500, 1000, 1500, 2000, 2500]) t.onStatus('r1', { ...status(2, 120), videoIdle: true }, at);
  assert.equal(t.assess('r1', 2500)?.verdict, 'healthy');
  // Watched again but frames do not move: a stall after the threshold.
  t.onStatus('r1', status(2, 120), 3000);
  t.onStatus('r1', status(2, 120), 4600);
  assert.equal(t.assess('r1', 4600)?.reason, 'frames-stalled');
});
