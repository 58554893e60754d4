// The leader's rebalance of node homes (HomeRebalancer) with fake nodes, a
// fake table and a fake clock: one node at a time to the underloaded server,
// never a node whose replica is the only live one or is shown, with
// hysteresis (settle, gap, per-node cooldown, a spread of one left alone).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RehomeDirective, SessionPlacement } from '../../protocol/cluster-state.js';
import type { SessionHealthView } from '../../server/cluster/cluster-placement-types.js';
import { HomeRebalancer, type RebalanceInput } from '../../server/cluster/home-rebalance.js';
import { clusterNode } from '../helpers/node-view.js';

const OPTS = { settleMs: 2000, gapMs: 5000, nodeCooldownMs: 60_000, directiveTtlMs: 15_000 };

const servers = (...ids: string[]): RebalanceInput['servers'] => ids.map((id) => ({ id, url: `http://${id}:3000` }));

/** A world: nodes (id → home), one session over every node (replica i on node i), all live and unwatched. */
class World {
  homes: Map<string, string>;
  serverIds: string[];
  watched = new Set<string>();
  notLive = new Set<string>();
  unreported = new Set<string>();
  directives: RehomeDirective[] = [];
  sessions: Array<{ sessionId: string; nodes: string[] }>;

  constructor(
    homes: Record<string, string>,
    serverIds: string[],
    sessions?: Array<{ sessionId: string; nodes: string[] }>,
  ) {
    this.homes = new Map(Object.entries(homes));
    this.serverIds = serverIds;
    this.sessions = sessions ?? [{ sessionId: 's1', nodes: [...this.homes.keys()] }];
  }

  input(): RebalanceInput {
    const table = new Map<string, SessionPlacement>();
    const health = new Map<string, SessionHealthView>();
    for (const s of this.sessions) {
      const replicas = s.nodes.map((nodeId, i) => ({
        replicaId: `${s.sessionId}.r${i + 1}`,
        nodeId,
        homeServerId: this.homes.get(nodeId) ?? '?',
        mode: 'hot' as const,
      }));
      table.set(s.sessionId, { sessionId: s.sessionId, replicas, term: '7', writtenAt: 0 });
      health.set(s.sessionId, {
        failed: [],
        quarantinedHosts: [],
        replicas: replicas
          .filter((r) => !this.unreported.has(r.nodeId))
          .map((r) => ({
            replicaId: r.replicaId,
            nodeId: r.nodeId,
            appliedSeq: 10,
            stateHash: 'a'.repeat(32),
            state: this.notLive.has(r.nodeId) ? 'catching-up' : 'live',
            watched: this.watched.has(r.nodeId),
          })),
      });
    }
    return {
      servers: servers(...this.serverIds),
      nodes: [...this.homes].map(([id, home]) => clusterNode(id, home)),
      table,
      health,
      directives: this.directives,
    };
  }

  /** Carries out a step the way the leader and the node would: the directive stands until the node moved. */
  apply(step: ReturnType<HomeRebalancer['step']>, now: number): void {
    if (step.kind === 'issue') {
      this.directives.push({
        directiveId: 'rh-0123456789abcdef',
        nodeId: step.nodeId,
        fromServerId: step.fromServerId,
        toServerId: step.toServerId,
        toUrl: step.toUrl,
        issuedAt: now,
        expiresAt: step.expiresAt,
        term: '7',
      });
    } else if (step.kind === 'clear') {
      this.directives = this.directives.filter((d) => d !== step.directive);
    }
  }

  moveAll(): void {
    for (const d of this.directives) this.homes.set(d.nodeId, d.toServerId);
  }

  counts(): number[] {
    return this.serverIds.map((id) => [...this.homes.values()].filter((h) => h === id).length);
  }
}

describe('HomeRebalancer', () => {
  it('moves one node from the crowded server to the one that (re)joined, once it has settled', () => {
    const w = new World({ n1: 'b', n2: 'b', n3: 'c' }, ['b', 'c']);
    const r = new HomeRebalancer(OPTS);
    assert.equal(r.step(w.input(), 0).kind, 'none', 'b 2, c 1: a spread of one is left alone');
    w.serverIds = ['a', 'b', 'c'];
    const early = r.step(w.input(), 1000);
    assert.equal(early.kind, 'none', 'a joined 0 ms ago: not settled');
    const step = r.step(w.input(), 3100);
    assert.equal(step.kind, 'issue', JSON.stringify(step));
    assert.ok(step.kind === 'issue');
    assert.equal(step.fromServerId, 'b');
    assert.equal(step.toServerId, 'a');
    assert.equal(step.toUrl, 'http://a:3000');
    assert.equal(step.expiresAt, 3100 + OPTS.directiveTtlMs);
    assert.ok(['n1', 'n2'].includes(step.nodeId));
    w.apply(step, 3100);
    assert.equal(r.step(w.input(), 3200).kind, 'none', 'one move at a time');
    w.moveAll();
    const done = r.step(w.input(), 4000);
    assert.equal(done.kind, 'clear');
    w.apply(done, 4000);
    assert.deepEqual(w.counts(), [1, 1, 1]);
    for (let t = 4100; t < 200_000; t += 1000) {
      const s = r.step(w.input(), t);
      assert.equal(s.kind, 'none', `even homes stay put (t=${t}): ${JSON.stringify(s)}`);
    }
  });

  it('leaves nodes that connect unevenly alone until a server (re)joins', () => {
    const w = new World({}, ['b', 'c']);
    const r = new HomeRebalancer(OPTS);
    assert.equal(r.step(w.input(), 0).kind, 'none', 'nothing to even out yet');
    // Nodes connect, each to the server its operator put first: b gets three.
    w.homes = new Map([
      ['n1', 'b'],
      ['n2', 'b'],
      ['n3', 'b'],
    ]);
    w.sessions = [{ sessionId: 's1', nodes: ['n1', 'n2', 'n3'] }];
    for (let t = 1000; t < 60_000; t += 1000) {
      const s = r.step(w.input(), t);
      assert.equal(s.kind, 'none', `t=${t}: ${JSON.stringify(s)}`);
      assert.match(s.why, /no server joined/);
    }
    // c dies and comes back: armed again, and c takes a node once it has settled.
    w.serverIds = ['b'];
    r.step(w.input(), 60_000);
    w.serverIds = ['b', 'c'];
    const early = r.step(w.input(), 61_000);
    assert.equal(early.kind, 'none');
    const moved = r.step(w.input(), 61_000 + OPTS.settleMs);
    assert.ok(moved.kind === 'issue' && moved.fromServerId === 'b' && moved.toServerId === 'c', JSON.stringify(moved));
  });

  it('spreads three nodes piled on one server over three, one at a time with a gap between', () => {
    const w = new World({ n1: 'c', n2: 'c', n3: 'c' }, ['a', 'b', 'c']);
    const r = new HomeRebalancer(OPTS);
    r.step(w.input(), 0);
    const issued: Array<{ at: number; nodeId: string; to: string }> = [];
    for (let t = 2000; t <= 60_000; t += 250) {
      const s = r.step(w.input(), t);
      if (s.kind === 'issue') issued.push({ at: t, nodeId: s.nodeId, to: s.toServerId });
      w.apply(s, t);
      if (s.kind === 'issue') w.moveAll(); // the node moves at once
    }
    assert.deepEqual(w.counts().sort(), [1, 1, 1]);
    assert.equal(issued.length, 2, JSON.stringify(issued));
    assert.equal(new Set(issued.map((i) => i.nodeId)).size, 2);
    assert.deepEqual(new Set(issued.map((i) => i.to)), new Set(['a', 'b']));
    const [first, second] = issued;
    assert.ok(first && second && second.at - first.at >= OPTS.gapMs, 'the gap holds between moves');
  });

  it('never moves a node whose replica is shown, the only live one, or unreported', () => {
    const r = new HomeRebalancer(OPTS);
    const w = new World({ n1: 'b', n2: 'b' }, ['a', 'b']);
    r.step(w.input(), 0);
    w.watched = new Set(['n1']);
    const shown = r.step(w.input(), 3000);
    assert.ok(shown.kind === 'issue' && shown.nodeId === 'n2', `the shown n1 stays: ${JSON.stringify(shown)}`);

    const r2 = new HomeRebalancer(OPTS);
    const w2 = new World({ n1: 'b', n2: 'b' }, ['a', 'b']);
    r2.step(w2.input(), 0);
    w2.watched = new Set(['n1', 'n2']);
    const none = r2.step(w2.input(), 3000);
    assert.equal(none.kind, 'none');
    assert.match(none.why, /shown to a viewer/);

    // n2's replica is catching up: n1 holds the only live one and must stay; n2 holds no live one to lose.
    const r3 = new HomeRebalancer(OPTS);
    const w3 = new World({ n1: 'b', n2: 'b' }, ['a', 'b']);
    r3.step(w3.input(), 0);
    w3.notLive = new Set(['n2']);
    const only = r3.step(w3.input(), 3000);
    assert.ok(only.kind === 'issue' && only.nodeId === 'n2', JSON.stringify(only));
    const r3b = new HomeRebalancer(OPTS);
    w3.homes.set('n2', 'a');
    w3.homes.set('n3', 'b');
    w3.homes.set('n4', 'b');
    w3.sessions = [
      { sessionId: 's1', nodes: ['n1', 'n2'] },
      { sessionId: 's2', nodes: ['n3', 'n4'] },
    ];
    // b homes n1, n3, n4; a homes n2 (not live): n1 is s1's only live replica; s2's both sit on b.
    w3.watched = new Set(['n3', 'n4']);
    r3b.step(w3.input(), 0);
    const blocked = r3b.step(w3.input(), 3000);
    assert.equal(blocked.kind, 'none', JSON.stringify(blocked));
    assert.match(blocked.why, /only live replica of s1/);

    const r4 = new HomeRebalancer(OPTS);
    const w4 = new World({ n1: 'b', n2: 'b' }, ['a', 'b']);
    r4.step(w4.input(), 0);
    w4.unreported = new Set(['n1', 'n2']);
    const unknown = r4.step(w4.input(), 3000);
    assert.equal(unknown.kind, 'none');
    assert.match(unknown.why, /no report/);
  });

  it('waits while the cluster is unsettled: a replica on a node missing or on a dead home', () => {
    const r = new HomeRebalancer(OPTS);
    const w = new World({ n1: 'b', n2: 'b', n3: 'c' }, ['a', 'b', 'c']);
    w.sessions = [{ sessionId: 's1', nodes: ['n1', 'n2', 'n3', 'gone'] }];
    r.step(w.input(), 0);
    const s = r.step(w.input(), 5000);
    assert.equal(s.kind, 'none');
    assert.match(s.why, /not settled/);
  });

  it('voids a directive that ran out or whose target left, and does not tell the same node again soon', () => {
    const w = new World({ n1: 'b', n2: 'b', n3: 'b' }, ['a', 'b']);
    const r = new HomeRebalancer(OPTS);
    r.step(w.input(), 0);
    const first = r.step(w.input(), 2000);
    assert.ok(first.kind === 'issue');
    w.apply(first, 2000);
    assert.equal(r.step(w.input(), 2000 + OPTS.directiveTtlMs - 1).kind, 'none');
    const expired = r.step(w.input(), 2000 + OPTS.directiveTtlMs);
    assert.equal(expired.kind, 'clear');
    assert.match(expired.why, /in time/);
    w.apply(expired, 2000 + OPTS.directiveTtlMs);
    const t2 = 2000 + OPTS.directiveTtlMs + OPTS.gapMs;
    const second = r.step(w.input(), t2);
    assert.ok(second.kind === 'issue' && second.nodeId !== first.nodeId, 'another node, the first is cooling down');
    w.apply(second, t2);
    w.serverIds = ['b'];
    const gone = r.step(w.input(), t2 + 10);
    assert.equal(gone.kind, 'clear');
    assert.match(gone.why, /left the cluster/);
  });

  it("a new leader's rebalancer honours a standing directive and its node's cooldown", () => {
    const w = new World({ n1: 'b', n2: 'b', n3: 'b' }, ['a', 'b']);
    w.directives = [
      {
        directiveId: 'rh-00000000000000aa',
        nodeId: 'n1',
        fromServerId: 'b',
        toServerId: 'a',
        toUrl: 'http://a:3000',
        issuedAt: 1000,
        expiresAt: 1000 + OPTS.directiveTtlMs,
        term: '5',
      },
    ];
    const r = new HomeRebalancer(OPTS);
    assert.equal(r.step(w.input(), 3000).kind, 'none', 'the former leader’s move is under way');
    const cleared = r.step(w.input(), 1000 + OPTS.directiveTtlMs);
    assert.equal(cleared.kind, 'clear');
    w.apply(cleared, 0);
    const next = r.step(w.input(), 1000 + OPTS.directiveTtlMs + OPTS.gapMs);
    assert.ok(next.kind === 'issue' && next.nodeId !== 'n1', JSON.stringify(next));
  });

  it('prefers a node whose sessions the target does not home yet', () => {
    const w = new World(
      { n1: 'b', n2: 'b', n3: 'b', n4: 'a' },
      ['a', 'b'],
      [
        { sessionId: 's1', nodes: ['n1', 'n4'] },
        { sessionId: 's2', nodes: ['n2', 'n3'] },
      ],
    );
    const r = new HomeRebalancer(OPTS);
    r.step(w.input(), 0);
    const s = r.step(w.input(), 3000);
    assert.ok(s.kind === 'issue' && s.nodeId !== 'n1', `n1's session is on a already: ${JSON.stringify(s)}`);
  });
});
