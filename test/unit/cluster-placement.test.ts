// The leader's cluster-wide placement (server/cluster/cluster-placement.ts):
// fake directory, table and reports, a clock the test moves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterNodeInfo, SessionPlacement } from '../../protocol/cluster-state.js';
import {
  ClusterPlacer,
  type ClusterPlacementInput,
  type PlacementChange,
  type SessionHealthView,
} from '../../server/cluster/cluster-placement.js';

const APP = { name: 'writer', hash: '0123456789abcdef' };
const HOLD = 10_000;

function node(
  nodeId: string,
  hostId: string,
  homeServerId: string,
  over: Partial<ClusterNodeInfo> = {},
): ClusterNodeInfo {
  return {
    nodeId,
    hostId,
    admissionId: `adm-${hostId}`,
    homeServerId,
    cores: 4,
    maxReplicas: 4,
    replicaCount: 0,
    load: 0.1,
    state: 'up',
    warmApps: ['writer'],
    apps: [APP],
    appPolicy: { kind: 'builtin' },
    warmBundles: [],
    refusedBundles: [],
    ...over,
  };
}

/** Two nodes on each of servers A, B, C, every node on its own host. */
const NODES = [
  node('a1', 'ha1', 'A'),
  node('a2', 'ha2', 'A'),
  node('b1', 'hb1', 'B'),
  node('b2', 'hb2', 'B'),
  node('c1', 'hc1', 'C'),
  node('c2', 'hc2', 'C'),
];

/** A table that applies the written changes, as etcd and the table's watch would. */
class FakeTable {
  readonly entries = new Map<string, SessionPlacement>();
  apply(changes: readonly PlacementChange[]): void {
    for (const c of changes) {
      if (c.kind === 'remove') this.entries.delete(c.sessionId);
      else {
        this.entries.set(c.sessionId, {
          sessionId: c.sessionId,
          replicas: c.replicas,
          nextOrdinal: c.nextOrdinal,
          ...(c.quarantinedHosts.length > 0 ? { quarantinedHosts: c.quarantinedHosts } : {}),
          ...(c.appFailureVotes.length > 0 ? { appFailureVotes: c.appFailureVotes } : {}),
          ...(c.appFailure ? { appFailure: c.appFailure } : {}),
          term: '7',
          writtenAt: 0,
        });
      }
    }
  }
}

function input(
  table: FakeTable,
  over: Partial<Omit<ClusterPlacementInput, 'table'>> = {},
  r = 3,
): ClusterPlacementInput {
  return {
    sessions: [{ sessionId: 's1', app: APP, replicationFactor: r }],
    nodes: NODES,
    servers: new Set(['A', 'B', 'C']),
    health: new Map(),
    ...over,
    table: table.entries,
  };
}

const missingSince = (t: FakeTable, replicaId: string, id = 's1'): number | undefined =>
  t.entries.get(id)?.replicas.find((r) => r.replicaId === replicaId)?.missingSince;
const homes = (t: FakeTable, id = 's1'): string[] => (t.entries.get(id)?.replicas ?? []).map((r) => r.homeServerId);
const ids = (t: FakeTable, id = 's1'): string[] => (t.entries.get(id)?.replicas ?? []).map((r) => r.replicaId);
const nodesOf = (t: FakeTable, id = 's1'): string[] => (t.entries.get(id)?.replicas ?? []).map((r) => r.nodeId);

/** Settled, then the node of replica `index` leaves the directory at `at` under that (old) leader. */
function goneUnderOldLeader(index: number, at: number) {
  const { placer: old, table } = placed();
  const lost = table.entries.get('s1')?.replicas[index];
  assert.ok(lost);
  const nodes = NODES.filter((n) => n.nodeId !== lost.nodeId);
  table.apply(old.plan(input(table, { nodes }), at));
  return { old, table, lost, nodes, next: new ClusterPlacer({ holdMs: HOLD }) };
}

function placed(r = 3): { placer: ClusterPlacer; table: FakeTable } {
  const placer = new ClusterPlacer({ holdMs: HOLD });
  const table = new FakeTable();
  table.apply(placer.plan(input(table, {}, r), 0));
  return { placer, table };
}

describe('ClusterPlacer', () => {
  it('places R replicas over distinct home servers and hosts, then leaves a settled table alone', () => {
    const { placer, table } = placed();
    assert.deepEqual([...homes(table)].sort(), ['A', 'B', 'C']);
    assert.deepEqual(ids(table), ['s1.r1', 's1.r2', 's1.r3']);
    assert.deepEqual(placer.plan(input(table), 1000), [], 'nothing to change');
  });

  it('spreads several sessions by the replicas the table already gives each node', () => {
    const placer = new ClusterPlacer({ holdMs: HOLD });
    const table = new FakeTable();
    const sessions = ['s1', 's2'].map((sessionId) => ({ sessionId, app: APP, replicationFactor: 3 }));
    table.apply(placer.plan(input(table, { sessions }), 0));
    const used = [...nodesOf(table, 's1'), ...nodesOf(table, 's2')];
    assert.equal(new Set(used).size, 6, 'six replicas on six nodes, none doubled up');
  });

  it('gives nothing new to nodes whose home server left the registry', () => {
    const placer = new ClusterPlacer({ holdMs: HOLD });
    const table = new FakeTable();
    table.apply(placer.plan(input(table, { servers: new Set(['A', 'B']) }), 0));
    assert.ok(!homes(table).includes('C'));
    assert.equal(ids(table).length, 3, 'R still met, two on one home (distinct hosts)');
  });

  it('a node that moved home keeps its replica: same id, same node, the new home', () => {
    const { placer, table } = placed();
    const before = table.entries.get('s1')?.replicas ?? [];
    const moved = before.find((r) => r.homeServerId === 'A');
    assert.ok(moved);
    // A died: its node re-registered at B (the directory shows it homed there); A is gone from the registry.
    const nodes = NODES.map((n) => (n.nodeId === moved.nodeId ? { ...n, homeServerId: 'B' } : n)).filter(
      (n) => n.homeServerId !== 'A',
    );
    const changes = placer.plan(input(table, { nodes, servers: new Set(['B', 'C']) }), 1000);
    table.apply(changes);
    assert.deepEqual(ids(table), ['s1.r1', 's1.r2', 's1.r3'], 'nothing re-placed');
    assert.equal(table.entries.get('s1')?.replicas.find((r) => r.nodeId === moved.nodeId)?.homeServerId, 'B');
  });

  it('a node listed under its dead old home and its new one at once counts once, at the live home', () => {
    const { placer, table } = placed();
    const moved = table.entries.get('s1')?.replicas.find((r) => r.homeServerId === 'A');
    assert.ok(moved);
    const again = NODES.find((n) => n.nodeId === moved.nodeId);
    assert.ok(again);
    const nodes = [...NODES, { ...again, homeServerId: 'C' }];
    table.apply(placer.plan(input(table, { nodes, servers: new Set(['B', 'C']) }), 1000));
    assert.deepEqual(ids(table), ['s1.r1', 's1.r2', 's1.r3']);
    assert.equal(table.entries.get('s1')?.replicas.find((r) => r.nodeId === moved.nodeId)?.homeServerId, 'C');
  });

  it('a node gone from the directory keeps its entry for the hold window, then is re-placed once', () => {
    const { placer, table } = placed();
    const lost = table.entries.get('s1')?.replicas[0];
    assert.ok(lost);
    const nodes = NODES.filter((n) => n.nodeId !== lost.nodeId);
    table.apply(placer.plan(input(table, { nodes }), 1000));
    assert.deepEqual(ids(table), ['s1.r1', 's1.r2', 's1.r3'], 'held: it may be re-homing');
    assert.equal(missingSince(table, lost.replicaId), 1000, 'the time it went is written into the table');
    assert.deepEqual(placer.plan(input(table, { nodes }), 1000 + HOLD - 1), []);
    const changes = placer.plan(input(table, { nodes }), 1000 + HOLD);
    table.apply(changes);
    assert.ok(!ids(table).includes(lost.replicaId));
    assert.equal(ids(table).length, 3);
    assert.ok(ids(table).includes('s1.r4'), 'a fresh id, never a reused one');
    const lostHost = NODES.find((n) => n.nodeId === lost.nodeId)?.hostId;
    const hosts = nodesOf(table).map((id) => NODES.find((n) => n.nodeId === id)?.hostId);
    assert.ok(!hosts.includes(lostHost));
    assert.deepEqual([...homes(table)].sort(), ['A', 'B', 'C'], 'the new one on the home it left');
    assert.deepEqual(placer.plan(input(table, { nodes }), 2000 + HOLD), [], 'once');
  });

  it('a replica reported dead is re-placed at once, not on the node it failed on', () => {
    const { placer, table } = placed();
    const dead = table.entries.get('s1')?.replicas[1];
    assert.ok(dead);
    const hostId = NODES.find((n) => n.nodeId === dead.nodeId)?.hostId ?? '';
    const health = new Map<string, SessionHealthView>([
      [
        's1',
        {
          failed: [{ replicaId: dead.replicaId, nodeId: dead.nodeId, hostId, cause: 'unresponsive' }],
          quarantinedHosts: [],
        },
      ],
    ]);
    table.apply(placer.plan(input(table, { health }), 500));
    assert.ok(!ids(table).includes(dead.replicaId));
    assert.ok(!nodesOf(table).includes(dead.nodeId));
    assert.equal(ids(table).length, 3);
    // The report stays until its server sees the table drop it: nothing moves again meanwhile.
    assert.deepEqual(placer.plan(input(table, { health }), 600), []);
  });

  it('app failures: one host only gets its replica re-placed; a second host at the same seq fails the session', () => {
    const { placer, table } = placed();
    const [r1, r2] = table.entries.get('s1')?.replicas ?? [];
    assert.ok(r1 && r2);
    /** What r's home server relays: the replica given up, and its typed failure (with the server's word on the host). */
    const failedOn = (r: typeof r1, seq: number, saysHost = 'whatever-the-server-says') => ({
      failed: [{ replicaId: r.replicaId, nodeId: r.nodeId, hostId: saysHost, cause: 'refused' as const }],
      appFailures: [
        {
          serverId: r.homeServerId,
          replicaId: r.replicaId,
          nodeId: r.nodeId,
          seq,
          reason: 'app-threw' as const,
          message: 'boom',
        },
      ],
    });
    const one = failedOn(r1, 8);
    table.apply(placer.plan(input(table, { health: new Map([['s1', { ...one, quarantinedHosts: [] }]]) }), 100));
    const entry = table.entries.get('s1');
    assert.equal(entry?.appFailure, undefined, 'one host alone does not fail the session');
    assert.ok(!ids(table).includes(r1.replicaId), 'its replica is re-placed');
    assert.equal(ids(table).length, 3);
    const hostOf = (nodeId: string) => NODES.find((n) => n.nodeId === nodeId)?.hostId;
    assert.deepEqual(entry?.appFailureVotes, [
      { hostId: hostOf(r1.nodeId), serverId: r1.homeServerId, seq: 8, reason: 'app-threw', message: 'boom' },
    ]);
    assert.notEqual(r1.homeServerId, r2.homeServerId, 'two hosts homed on two servers');
    // r2's home relays its failure at the same seq; r1's report is still up (its server has not seen the table yet).
    const two = failedOn(r2, 8);
    const health = new Map([
      [
        's1',
        {
          failed: [...one.failed, ...two.failed],
          appFailures: [...one.appFailures, ...two.appFailures],
          quarantinedHosts: [],
        },
      ],
    ]);
    const changes = placer.plan(input(table, { health }), 200);
    table.apply(changes);
    const failed = table.entries.get('s1');
    assert.deepEqual(failed?.appFailure, { seq: 8, reason: 'app-threw', message: 'boom' });
    assert.equal(ids(table).length, 2, 'nothing placed for r2: the app fails on that input wherever it runs');
    assert.ok(changes.some((c) => c.kind === 'write' && c.reasons.some((r) => /quorum of hosts/.test(r))));
    // Kept: a new leader reading the table neither places more nor forgets it.
    const next = new ClusterPlacer({ holdMs: HOLD });
    assert.deepEqual(next.plan(input(table), 300), []);
    assert.deepEqual(table.entries.get('s1')?.appFailure?.seq, 8);
  });

  it('a lying host alone cannot fail the session, nor can a server speak for a replica it does not home', () => {
    const { placer, table } = placed();
    const [r1, r2] = table.entries.get('s1')?.replicas ?? [];
    assert.ok(r1 && r2);
    // r1's server relays two failures at seq 4: its own replica's, and one for r2 (homed elsewhere).
    const appFailures = [r1, r2].map((r) => ({
      serverId: r1.homeServerId,
      replicaId: r.replicaId,
      nodeId: r.nodeId,
      seq: 4,
      reason: 'app-threw' as const,
      message: 'lie',
    }));
    const health = new Map([
      [
        's1',
        {
          failed: [{ replicaId: r1.replicaId, nodeId: r1.nodeId, hostId: 'x', cause: 'refused' as const }],
          appFailures,
          quarantinedHosts: [],
        },
      ],
    ]);
    const changes = placer.plan(input(table, { health }), 100);
    table.apply(changes);
    assert.equal(table.entries.get('s1')?.appFailure, undefined);
    assert.equal(table.entries.get('s1')?.appFailureVotes?.length, 1, "only the liar's own replica counts");
    assert.ok(ids(table).includes(r2.replicaId), 'the other replica is untouched');
    assert.equal(ids(table).length, 3);
    assert.ok(
      changes.some(
        (c) => c.kind === 'write' && c.reasons.some((r) => /not homed on the server that relayed it/.test(r)),
      ),
    );
  });

  it('a diverged replica takes its host out of the session; a report naming another node is stale and ignored', () => {
    const { placer, table } = placed();
    const [bad, other] = table.entries.get('s1')?.replicas ?? [];
    assert.ok(bad && other);
    const hostId = NODES.find((n) => n.nodeId === bad.nodeId)?.hostId ?? '';
    const health = new Map<string, SessionHealthView>([
      [
        's1',
        {
          failed: [
            { replicaId: bad.replicaId, nodeId: bad.nodeId, hostId, cause: 'diverged' },
            { replicaId: other.replicaId, nodeId: 'some-earlier-node', hostId: 'hx', cause: 'unresponsive' },
          ],
          quarantinedHosts: [],
        },
      ],
    ]);
    table.apply(placer.plan(input(table, { health }), 500));
    assert.ok(!ids(table).includes(bad.replicaId));
    assert.ok(ids(table).includes(other.replicaId), 'the stale report did not drop a healthy replica');
    const hosts = nodesOf(table).map((id) => NODES.find((n) => n.nodeId === id)?.hostId);
    assert.ok(!hosts.includes(hostId));
  });

  it('the cluster-wide hash vote: a minority hash at a common seq quarantines its host, and the table remembers it', () => {
    const { placer, table } = placed();
    const [r1, r2, r3] = table.entries.get('s1')?.replicas ?? [];
    assert.ok(r1 && r2 && r3);
    const ballot = (r: typeof r1, appliedSeq: number, stateHash: string) => ({
      replicaId: r.replicaId,
      nodeId: r.nodeId,
      appliedSeq,
      stateHash,
    });
    const tie = new Map<string, SessionHealthView>([
      [
        's1',
        { failed: [], quarantinedHosts: [], replicas: [ballot(r1, 5, 'aa'), ballot(r2, 5, 'bb'), ballot(r3, 4, 'cc')] },
      ],
    ]);
    assert.deepEqual(placer.plan(input(table, { health: tie }), 100), [], 'a tie names no one');
    const health = new Map<string, SessionHealthView>([
      [
        's1',
        { failed: [], quarantinedHosts: [], replicas: [ballot(r1, 5, 'aa'), ballot(r2, 5, 'bb'), ballot(r3, 5, 'aa')] },
      ],
    ]);
    table.apply(placer.plan(input(table, { health }), 200));
    const badHost = NODES.find((n) => n.nodeId === r2.nodeId)?.hostId ?? '';
    assert.ok(!ids(table).includes(r2.replicaId));
    assert.equal(ids(table).length, 3);
    assert.deepEqual(table.entries.get('s1')?.quarantinedHosts, [badHost]);
    // A new leader, no reports at all: the host stays out (another replica of the session goes missing).
    const next = new ClusterPlacer({ holdMs: HOLD });
    const gone = table.entries.get('s1')?.replicas[0];
    assert.ok(gone);
    const nodes = NODES.filter((n) => n.nodeId !== gone.nodeId);
    table.apply(next.plan(input(table, { nodes }), 300 + HOLD));
    table.apply(next.plan(input(table, { nodes }), 301 + HOLD * 2));
    const hosts = nodesOf(table).map((id) => NODES.find((n) => n.nodeId === id)?.hostId);
    assert.ok(!hosts.includes(badHost), 'never placed on the quarantined host again');
  });

  it('a new leader continues from the table: healthy replicas untouched, a missing node held anew', () => {
    const { table } = placed();
    const lost = table.entries.get('s1')?.replicas[2];
    assert.ok(lost);
    const nodes = NODES.filter((n) => n.nodeId !== lost.nodeId);
    const next = new ClusterPlacer({ holdMs: HOLD });
    assert.deepEqual(next.plan(input(table), 50_000), [], 'nothing re-placed by the hand-over');
    // The old leader never saw it go (nothing in the table): the window starts at this leader's first sight.
    table.apply(next.plan(input(table, { nodes }), 50_000));
    assert.deepEqual(ids(table), ['s1.r1', 's1.r2', 's1.r3'], 'the missing node gets its hold window');
    assert.deepEqual(next.plan(input(table, { nodes }), 50_000 + HOLD - 1), []);
    table.apply(next.plan(input(table, { nodes }), 50_000 + HOLD));
    assert.ok(!ids(table).includes(lost.replicaId));
    assert.equal(ids(table).length, 3);
  });

  it('a new leader keeps the hold window from the table: missing 9 s under the old one, re-placed ~1 s later', () => {
    const { old, table, lost, nodes, next } = goneUnderOldLeader(0, 1000);
    assert.deepEqual(old.plan(input(table, { nodes }), 1000 + 9000), [], 'held 9 s by the old leader');
    // The old leader dies; a new one (its own memory empty) takes over at +9 s.
    assert.deepEqual(next.plan(input(table, { nodes }), 1000 + 9000), [], 'not re-placed early');
    assert.deepEqual(next.plan(input(table, { nodes }), 1000 + HOLD - 1), [], 'nor 1 ms before the window ends');
    table.apply(next.plan(input(table, { nodes }), 1000 + HOLD));
    assert.ok(!ids(table).includes(lost.replicaId), 'the window ended when it would have under the old leader');
    assert.ok(ids(table).includes('s1.r4'));
    assert.ok(
      table.entries.get('s1')?.replicas.every((r) => r.missingSince === undefined),
      'no marker left',
    );
  });

  it('a node that comes back under a new leader is not re-placed, and its marker goes', () => {
    const { table, lost, nodes, next } = goneUnderOldLeader(1, 1000);
    assert.deepEqual(next.plan(input(table, { nodes }), 1000 + 9000), []);
    table.apply(next.plan(input(table), 1000 + 9500));
    assert.deepEqual(ids(table), ['s1.r1', 's1.r2', 's1.r3'], 'the same replicas');
    assert.equal(missingSince(table, lost.replicaId), undefined, 'back in the directory: the marker is cleared');
    assert.deepEqual(next.plan(input(table), 1000 + HOLD + 5000), [], 'and nothing re-placed after the window');
  });

  it("a marker ahead of the new leader's clock counts as now, never as a longer hold", () => {
    const { table, lost, nodes, next } = goneUnderOldLeader(0, 60_000);
    table.apply(next.plan(input(table, { nodes }), 5000));
    assert.deepEqual(ids(table), ['s1.r1', 's1.r2', 's1.r3'], 'held');
    assert.equal(missingSince(table, lost.replicaId), 5000, 'its clock is behind: the marker is rewritten to now');
    assert.deepEqual(next.plan(input(table, { nodes }), 5000 + HOLD - 1), []);
    table.apply(next.plan(input(table, { nodes }), 5000 + HOLD));
    assert.ok(!ids(table).includes(lost.replicaId));
  });

  it('short of nodes it places what it can and says why; closed sessions are removed', () => {
    const placer = new ClusterPlacer({ holdMs: HOLD });
    const table = new FakeTable();
    const changes = placer.plan(input(table, { nodes: NODES.slice(0, 2) }), 0);
    const write = changes.find((c) => c.kind === 'write');
    assert.ok(write?.kind === 'write');
    assert.equal(write.replicas.length, 2);
    assert.ok(write.reasons.length > 0);
    table.apply(changes);
    assert.deepEqual(placer.plan(input(table, { sessions: [] }), 10), [{ kind: 'remove', sessionId: 's1' }]);
  });
  describe('home spread after a node moved home', () => {
    /** R = 2 on A and B, then the node on A moved to B (A died and came back): both replicas homed on B. */
    function doubled(): { placer: ClusterPlacer; table: FakeTable; nodes: ClusterNodeInfo[] } {
      const { placer, table } = placed(2);
      assert.deepEqual([...homes(table)].sort(), ['A', 'B']);
      const movedId = table.entries.get('s1')?.replicas.find((r) => r.homeServerId === 'A')?.nodeId;
      const nodes = NODES.map((n) => (n.nodeId === movedId ? { ...n, homeServerId: 'B' } : n));
      table.apply(placer.plan(input(table, { nodes }, 2), 100));
      assert.deepEqual(homes(table), ['B', 'B'], 'the entry followed the node to its new home');
      return { placer, table, nodes };
    }

    /** Every replica of the table reported in `state` (watched: the ids a viewer watches). */
    function reported(
      table: FakeTable,
      state: (replicaId: string) => string,
      watched: readonly string[] = [],
    ): Map<string, SessionHealthView> {
      const replicas = (table.entries.get('s1')?.replicas ?? []).map((r) => ({
        replicaId: r.replicaId,
        nodeId: r.nodeId,
        appliedSeq: 5,
        stateHash: 'aa',
        state: state(r.replicaId),
        watched: watched.includes(r.replicaId),
      }));
      return new Map([['s1', { failed: [], quarantinedHosts: [], replicas }]]);
    }

    it('adds a replica on an unused home, and once it is live drops the unwatched one sharing a home', () => {
      const { placer, table, nodes } = doubled();
      const [first, second] = ids(table);
      assert.ok(first && second);
      table.apply(placer.plan(input(table, { nodes, health: reported(table, () => 'live') }, 2), 200));
      const [, , third] = homes(table);
      assert.equal(ids(table).length, 3, 'one more replica');
      assert.ok(third !== undefined && third !== 'B', `on a home the session does not use (${third})`);
      const spread = ids(table)[2];
      assert.ok(spread);
      const catchingUp = reported(table, (id) => (id === spread ? 'catching-up' : 'live'), [first]);
      assert.deepEqual(
        placer.plan(input(table, { nodes, health: catchingUp }, 2), 300),
        [],
        'nothing dropped while the new one catches up',
      );
      const live = reported(table, () => 'live', [first]);
      table.apply(placer.plan(input(table, { nodes, health: live }, 2), 400));
      assert.deepEqual(ids(table), [first, spread], 'the watched replica stays, the unwatched one sharing B goes');
      assert.deepEqual(homes(table), ['B', third]);
      assert.deepEqual(placer.plan(input(table, { nodes, health: reported(table, () => 'live') }, 2), 500), []);
    });

    it('spreads nothing while a replica is not live, or when no node is on an unused home', () => {
      const { placer, table, nodes } = doubled();
      const one = ids(table)[0];
      const notLive = reported(table, (id) => (id === one ? 'catching-up' : 'live'));
      assert.deepEqual(placer.plan(input(table, { nodes, health: notLive }, 2), 200), []);
      // Every node homed on B now (the others' servers died): sharing B is the best there is.
      const onlyB = nodes.filter((n) => n.homeServerId === 'B');
      const health = reported(table, () => 'live');
      assert.deepEqual(placer.plan(input(table, { nodes: onlyB, health }, 2), 300), []);
    });
  });
});
