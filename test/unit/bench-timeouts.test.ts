// Timed-out observations enter the percentiles at the timeout value and are
// counted (bench/lib/report.ts), and the chaos harness's detection rule
// (scripts/lib/session-observer.ts) is the server's own verdict.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { summarizeWithTimeouts } from '../../bench/lib/report.js';
import type { ReplicaInfo } from '../../protocol/session.js';
import { reactedTo } from '../../scripts/lib/session-observer.js';

test('timeouts are counted and sit in the tail at the timeout value, not dropped', () => {
  const gaps = [50, 60, 70, 80, 90, 100, 110, 120, 130, null];
  const s = summarizeWithTimeouts(gaps, 15_000);
  assert.equal(s.timeouts, 1);
  assert.equal(s.n, 10);
  assert.equal(s.p95, 15_000);
  assert.equal(s.max, 15_000);
  assert.equal(s.p50, 90);
  // Dropping the timeout would have given a flattering tail.
  assert.equal(summarizeWithTimeouts(gaps.slice(0, 9), 15_000).p95, 130);
});

test('no observations: n 0, no timeouts, NaN percentiles', () => {
  const s = summarizeWithTimeouts([], 1000);
  assert.equal(s.n, 0);
  assert.equal(s.timeouts, 0);
  assert.ok(Number.isNaN(s.p50));
});

function replica(hostId: string, extra: Partial<ReplicaInfo> = {}): ReplicaInfo {
  return {
    replicaId: `r-${hostId}`,
    sessionId: 's',
    nodeId: hostId,
    hostId,
    state: 'live',
    producerId: 'p',
    appliedSeq: 10,
    stateHash: 'h',
    health: { heartbeatAgeMs: 1400, lagSeq: 0, producerScore: 10 },
    selection: null,
    verdict: 'healthy',
    ...extra,
  };
}

test("detection is the server's verdict, not a heartbeat threshold applied by the harness", () => {
  assert.equal(
    reactedTo([replica('a', { health: { heartbeatAgeMs: 1900, lagSeq: 0, producerScore: 10 } })], 'a'),
    false,
  );
  assert.equal(reactedTo([replica('a', { verdict: 'stale' })], 'a'), true);
  assert.equal(reactedTo([replica('a', { verdict: 'dead' })], 'a'), true);
  assert.equal(reactedTo([replica('a', { state: 'closed' })], 'a'), true);
  assert.equal(reactedTo([replica('b')], 'a'), true);
  assert.equal(reactedTo([replica('a', { verdict: 'lagging' })], 'a'), false);
});
