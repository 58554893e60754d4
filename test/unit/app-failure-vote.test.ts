// The cluster leader's count of app failures (server/session-core/app-failure-vote.ts):
// fake table and directory views, no etcd. A quorum of distinct hosts (from the
// leader's own view), relayed by a quorum of distinct home servers, at one seq
// fails the session; one host, one server, a misfiled report or a server
// speaking for replicas it does not home cannot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppFailureVote } from '../../protocol/cluster-state.js';
import {
  MAX_VOTES_PER_HOST,
  tallyAppFailures,
  type PlacedReplicaHost,
  type RelayedAppFailure,
} from '../../server/session-core/app-failure-vote.js';

/** Three replicas, each on its own host and home server, as the leader's table and directory have them. */
const PLACED: PlacedReplicaHost[] = [
  { replicaId: 's1.r1', nodeId: 'na', homeServerId: 'pa', hostId: 'ha' },
  { replicaId: 's1.r2', nodeId: 'nb', homeServerId: 'pb', hostId: 'hb' },
  { replicaId: 's1.r3', nodeId: 'nc', homeServerId: 'pc', hostId: 'hc' },
];

function relayed(replicaId: string, seq: number, over: Partial<RelayedAppFailure> = {}): RelayedAppFailure {
  const p = PLACED.find((x) => x.replicaId === replicaId);
  assert.ok(p);
  return { serverId: p.homeServerId, replicaId, nodeId: p.nodeId, seq, reason: 'app-threw', message: 'boom', ...over };
}

describe('the cluster-wide app failure quorum', () => {
  it('two hosts homed on two servers failing at one seq fail the session there', () => {
    const t = tallyAppFailures([], [relayed('s1.r1', 7), relayed('s1.r2', 7, { reason: 'app-timeout' })], PLACED, 3);
    assert.deepEqual(t.failure, { seq: 7, reason: 'app-threw', message: 'boom' });
    assert.deepEqual(
      t.votes.map((v) => [v.hostId, v.seq]),
      [
        ['ha', 7],
        ['hb', 7],
      ],
    );
  });

  it('one host alone is a vote, not a failure, however often and for however many of its replicas', () => {
    const twice: PlacedReplicaHost[] = [
      ...PLACED,
      { replicaId: 's1.r4', nodeId: 'na2', homeServerId: 'pa', hostId: 'ha' },
    ];
    const reports = [
      relayed('s1.r1', 4),
      relayed('s1.r1', 4),
      { ...relayed('s1.r1', 4), replicaId: 's1.r4', nodeId: 'na2' },
    ];
    const t = tallyAppFailures([], reports, twice, 3);
    assert.equal(t.failure, null);
    assert.deepEqual(
      t.votes,
      [{ hostId: 'ha', serverId: 'pa', seq: 4, reason: 'app-threw', message: 'boom' }],
      'one vote per host',
    );
  });

  it("hosts come from the leader's view: two replicas on nodes of one host count once", () => {
    const sameHost = PLACED.map((p) => (p.replicaId === 's1.r2' ? { ...p, hostId: 'ha' } : p));
    const t = tallyAppFailures([], [relayed('s1.r1', 7), relayed('s1.r2', 7)], sameHost, 3);
    assert.equal(t.failure, null);
  });

  it('a failure the table does not vouch for is not counted (another node, another home, unplaced, unknown host)', () => {
    const unknownHost = PLACED.map((p) => (p.replicaId === 's1.r3' ? { ...p, hostId: null } : p));
    const t = tallyAppFailures(
      [],
      [
        relayed('s1.r1', 7),
        relayed('s1.r2', 7, { nodeId: 'na' }),
        relayed('s1.r2', 7, { serverId: 'pa' }),
        relayed('s1.r3', 7),
        { ...relayed('s1.r3', 7), replicaId: 's1.r9' },
      ],
      unknownHost,
      3,
    );
    assert.equal(t.failure, null);
    assert.equal(t.votes.length, 1, "only pa's own replica");
    assert.deepEqual(
      t.ignored.map((i) => i.why),
      [
        'the table does not place that replica on that node',
        'the replica is not homed on the server that relayed it',
        "the node's host is unknown here",
        'the table does not place that replica on that node',
      ],
    );
  });

  it('failures at different seqs do not add up; votes kept from the table do (a re-placed replica loses none)', () => {
    assert.equal(tallyAppFailures([], [relayed('s1.r1', 3), relayed('s1.r2', 5)], PLACED, 3).failure, null);
    // r1 failed earlier and was re-placed (the table no longer names it): its vote is in the entry.
    const prior: AppFailureVote[] = [{ hostId: 'ha', serverId: 'pa', seq: 5, reason: 'app-memory', message: 'heap' }];
    const rest = PLACED.filter((p) => p.replicaId !== 's1.r1');
    const t = tallyAppFailures(prior, [relayed('s1.r2', 5)], rest, 3);
    assert.deepEqual(t.failure, { seq: 5, reason: 'app-memory', message: 'heap' });
  });

  it('one home server relaying failures of several hosts it homes is one server: not a quorum', () => {
    // pa homes the nodes of two hosts (placement could not spread them, or pa claims both nodes).
    const oneHome = PLACED.map((p) => (p.replicaId === 's1.r2' ? { ...p, homeServerId: 'pa' } : p));
    const both = [relayed('s1.r1', 7), { ...relayed('s1.r2', 7), serverId: 'pa' }];
    const t = tallyAppFailures([], both, oneHome, 3);
    assert.equal(t.votes.length, 2, 'both hosts voted');
    assert.equal(t.failure, null, 'through one server only');
    // A second home server's replica failing at the same input completes it.
    assert.deepEqual(tallyAppFailures(t.votes, [relayed('s1.r3', 7)], oneHome, 3).failure?.seq, 7);
  });

  it('a vote kept without its server (written before servers were counted) counts for its host only', () => {
    const legacy: AppFailureVote[] = [{ hostId: 'ha', seq: 5, reason: 'app-threw', message: 'boom' }];
    const rest = PLACED.filter((p) => p.replicaId !== 's1.r1');
    assert.equal(tallyAppFailures(legacy, [relayed('s1.r2', 5)], rest, 3).failure, null);
    assert.equal(tallyAppFailures(legacy, [relayed('s1.r2', 5), relayed('s1.r3', 5)], rest, 3).failure?.seq, 5);
  });

  it('a majority of R is needed: two of five hosts are not enough, three are', () => {
    const five: PlacedReplicaHost[] = ['a', 'b', 'c', 'd', 'e'].map((x, i) => ({
      replicaId: `s1.r${i + 1}`,
      nodeId: `n${x}`,
      homeServerId: `p${x}`,
      hostId: `h${x}`,
    }));
    const r = (i: number): RelayedAppFailure => ({
      serverId: five[i]?.homeServerId ?? '',
      replicaId: five[i]?.replicaId ?? '',
      nodeId: five[i]?.nodeId ?? '',
      seq: 9,
      reason: 'app-threw',
      message: 'boom',
    });
    assert.equal(tallyAppFailures([], [r(0), r(1)], five, 5).failure, null);
    assert.equal(tallyAppFailures([], [r(0), r(1), r(2)], five, 5).failure?.seq, 9);
  });

  it('a host reporting ever new seqs only pushes out its own older votes', () => {
    const honest = tallyAppFailures([], [relayed('s1.r2', 6)], PLACED, 3).votes;
    const flood = Array.from({ length: 50 }, (_, i) => relayed('s1.r1', 100 + i));
    const after = tallyAppFailures(honest, flood, PLACED, 3);
    assert.equal(after.votes.filter((v) => v.hostId === 'ha').length, MAX_VOTES_PER_HOST);
    assert.ok(
      after.votes.some((v) => v.hostId === 'hb' && v.seq === 6),
      "the honest host's vote is kept",
    );
    assert.equal(after.failure, null);
    assert.equal(tallyAppFailures(after.votes, [relayed('s1.r3', 6)], PLACED, 3).failure?.seq, 6);
  });
});
