// The adoption rule: a node's held replica is taken over only where a fresh
// one could have been placed, and trusted only once its hash agrees with the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeldReplica } from '../../protocol/signalling.js';
import {
  adoptionVouched,
  planAdoption,
  replicaOrdinal,
  type AdoptionSessionView,
} from '../../server/session-core/replica-adoption.js';
import { nodeView } from '../helpers/node-view.js';

const APP = { name: 'writer', hash: 'aaaaaaaaaaaaaaaa' };
const H1 = '1111111111111111';
const H2 = '2222222222222222';

function session(over: Partial<AdoptionSessionView> = {}): AdoptionSessionView {
  return {
    sessionId: 's-1',
    open: true,
    app: APP,
    replicationFactor: 3,
    headSeq: 100,
    active: [],
    quarantinedHosts: [],
    ...over,
  };
}

/** The gateway checks tickets before this rule sees a claim (replica-tickets.ts); here it is only carried. */
const TICKET = 'A'.repeat(43);

function claim(over: Partial<HeldReplica> = {}): HeldReplica {
  return { replicaId: 's-1.r2', sessionId: 's-1', app: APP, appliedSeq: 90, stateHash: H1, ticket: TICKET, ...over };
}

const node = nodeView('n1', APP);

function decide(c: HeldReplica, s: AdoptionSessionView | undefined, n = node) {
  const plan = planAdoption(n, [c], () => s);
  return plan.adopt.length === 1 ? 'adopt' : (plan.refuse[0]?.reason ?? 'none');
}

test('a held replica of an open session that needs one is adopted', () => {
  assert.equal(decide(claim(), session()), 'adopt');
  assert.equal(decide(claim({ appliedSeq: 100 }), session()), 'adopt', 'applied seq at the head');
  assert.equal(decide(claim({ appliedSeq: 0 }), session()), 'adopt', 'nothing applied yet');
});

test('unknown or closed sessions are refused', () => {
  assert.match(decide(claim(), undefined), /no session s-1/);
  assert.match(decide(claim(), session({ open: false })), /closed/);
});

test('a replica id the server could not have issued for that session is refused', () => {
  assert.match(decide(claim({ replicaId: 's-2.r1' }), session()), /not a replica id/);
  assert.match(decide(claim({ replicaId: 's-1' }), session()), /not a replica id/);
  assert.match(decide(claim({ replicaId: 's-1.r0' }), session()), /not a replica id/);
  assert.equal(replicaOrdinal('s-1', 's-1.r17'), 17);
  assert.equal(replicaOrdinal('s-1', 's-1.rx'), null);
});

test('a replica id already hosted is refused', () => {
  const s = session({ active: [{ replicaId: 's-1.r2', hostId: 'host-x', admissionId: 'token-x' }] });
  assert.match(decide(claim(), s), /hosted already/);
});

test('another app version than the pinned one is refused', () => {
  assert.match(decide(claim({ app: { name: 'writer', hash: 'bbbbbbbbbbbbbbbb' } }), session()), /not the session's/);
  assert.match(decide(claim({ app: { name: 'paint', hash: APP.hash } }), session()), /not the session's/);
});

test('an applied seq beyond the head is refused', () => {
  assert.match(decide(claim({ appliedSeq: 101 }), session()), /beyond the log's head 100/);
});

test('a session that has its R replicas is refused', () => {
  const active = [
    { replicaId: 's-1.r4', hostId: 'host-a', admissionId: 'token-a' },
    { replicaId: 's-1.r5', hostId: 'host-b', admissionId: 'token-b' },
  ];
  assert.match(decide(claim(), session({ replicationFactor: 2, active })), /has its 2 replicas/);
  assert.equal(decide(claim(), session({ replicationFactor: 3, active })), 'adopt');
});

test('placement rules apply: distinct hosts and admissions, quarantine, caps, app capability', () => {
  const sameHost = session({ active: [{ replicaId: 's-1.r1', hostId: node.hostId, admissionId: 'token-other' }] });
  assert.match(decide(claim(), sameHost), /already hosts session/);
  const sameToken = session({ active: [{ replicaId: 's-1.r1', hostId: 'host-other', admissionId: node.admissionId }] });
  assert.match(decide(claim(), sameToken), /join token/);
  assert.match(decide(claim(), session({ quarantinedHosts: [node.hostId] })), /already hosts session/);
  assert.match(decide(claim(), session(), nodeView('n1', APP, { maxReplicas: 0 })), /full/);
  assert.match(decide(claim(), session(), nodeView('n1', { name: 'paint', hash: APP.hash })), /lacks or refuses/);
  assert.match(decide(claim(), session(), nodeView('n1', APP, { state: 'leaving' })), /state leaving/);
});

test('claims are judged in order, each adopted one counting for the next', () => {
  const sessions = new Map([
    ['s-1', session()],
    ['s-2', session({ sessionId: 's-2' })],
  ]);
  const plan = planAdoption(
    nodeView('n1', APP, { maxReplicas: 2 }),
    [
      claim(),
      // A second replica of the same session on the same host: the host rule refuses it.
      claim({ replicaId: 's-1.r3' }),
      claim({ replicaId: 's-2.r1', sessionId: 's-2' }),
      // The node's two slots are taken by now.
      claim({ replicaId: 's-3.r1', sessionId: 's-3' }),
    ],
    (id) => sessions.get(id) ?? (id === 's-3' ? session({ sessionId: 's-3' }) : undefined),
  );
  assert.deepEqual(
    plan.adopt.map((c) => c.replicaId),
    ['s-1.r2', 's-2.r1'],
  );
  assert.deepEqual(
    plan.refuse.map((r) => r.claim.replicaId),
    ['s-1.r3', 's-3.r1'],
  );
  assert.match(plan.refuse[0]?.reason ?? '', /already hosts session s-1/);
  assert.match(plan.refuse[1]?.reason ?? '', /full/);
  // The caller's session views are not modified.
  assert.equal(sessions.get('s-1')?.active.length, 0);
});

test('an adopted replica is vouched for once a majority at a common seq agrees with it', () => {
  const r = (replicaId: string, seq: number, stateHash: string) => ({ replicaId, seq, stateHash });
  // No common seq yet: not vouched.
  assert.equal(adoptionVouched('a', [r('a', 10, H1), r('b', 12, H1)], 2), false);
  // Agrees with the other at seq 12.
  assert.equal(adoptionVouched('a', [r('a', 10, H1), r('a', 12, H1), r('b', 12, H1)], 2), true);
  // Disagrees with the only other: a tie, no evidence for it.
  assert.equal(adoptionVouched('a', [r('a', 12, H2), r('b', 12, H1)], 2), false);
  // Two against one at a common seq.
  assert.equal(adoptionVouched('a', [r('a', 12, H2), r('b', 12, H1), r('c', 12, H1)], 3), false);
  assert.equal(adoptionVouched('b', [r('a', 12, H2), r('b', 12, H1), r('c', 12, H1)], 3), true);
  // The session's only replica has nobody to compare with: it stands on its own claim.
  assert.equal(adoptionVouched('a', [], 1), true);
  assert.equal(adoptionVouched('a', [r('a', 12, H2)], 2), false);
});
