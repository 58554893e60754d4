// The leader's local term (fake clock): it runs out on its own unless renewed,
// counted from each renewal's send time, never moves back, and the fencing
// decision writes only inside a live term whose etcd compare held.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fencedOutcome, LeaderTerm } from '../../server/cluster/leader-term.js';

function termAt(): { term: LeaderTerm; clock: { t: number } } {
  const clock = { t: 10_000 };
  return { term: new LeaderTerm({ ttlMs: 1000, safetyMs: 150, now: () => clock.t }), clock };
}

describe('LeaderTerm', () => {
  it('is not leading before an election', () => {
    const { term } = termAt();
    assert.deepEqual(term.verdict(), { leader: false, reason: 'not-elected' });
    assert.equal(term.deadline, null);
  });

  it('ends TTL − safety after the last renewal was sent, without any event', () => {
    const { term, clock } = termAt();
    term.begin('42', clock.t - 100); // the grant was sent 100 ms before the win
    assert.deepEqual(term.verdict(), { leader: true, revision: '42', remainingMs: 750 });
    clock.t += 749;
    assert.equal(term.verdict().leader, true);
    clock.t += 1;
    assert.deepEqual(term.verdict(), { leader: false, reason: 'expired' });
  });

  it('extends from the send time of each answered keepalive, never backwards', () => {
    const { term, clock } = termAt();
    term.begin('7', clock.t);
    clock.t += 600;
    term.renewed(clock.t - 50); // sent 50 ms ago, answered now
    assert.equal(term.deadline, 10_000 + 550 + 850);
    term.renewed(10_000 + 100); // a late reply to an older keepalive
    assert.equal(term.deadline, 10_000 + 550 + 850);
    clock.t = 10_000 + 550 + 849;
    assert.equal(term.verdict().leader, true);
    clock.t += 1;
    assert.equal(term.verdict().leader, false);
  });

  it('a renewal after expiry does not revive a term that was stepped down', () => {
    const { term, clock } = termAt();
    term.begin('7', clock.t);
    term.stepDown();
    term.renewed(clock.t);
    assert.deepEqual(term.verdict(), { leader: false, reason: 'stepped-down' });
    term.begin('9', clock.t);
    assert.equal(term.verdict().leader, true);
  });

  it('refuses a safety margin that leaves no term', () => {
    assert.throws(() => new LeaderTerm({ ttlMs: 1000, safetyMs: 1000, now: Date.now }), RangeError);
  });
});

describe('fencedOutcome', () => {
  it('sends nothing outside a term and counts a write only if etcd kept the compare', () => {
    let asked = false;
    const ask = (v: boolean) => () => {
      asked = true;
      return v;
    };
    assert.equal(fencedOutcome({ leader: false, reason: 'expired' }, ask(true)), 'refused-locally');
    assert.equal(asked, false);
    const live = { leader: true, revision: '3', remainingMs: 10 } as const;
    assert.equal(fencedOutcome(live, ask(true)), 'written');
    assert.equal(fencedOutcome(live, ask(false)), 'refused-by-etcd');
  });
});
