// The pure session core (server/session-core/session-core.ts): events in,
// commands out. Fake nodes are plain records, the clock is a number the test
// moves, and no log, socket or SFU exists: a write happens only when the test
// says it was acknowledged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SequencedInput } from '../../protocol/input.js';
import type { HeldReplica } from '../../protocol/signalling.js';
import type { AppRef } from '../../protocol/session.js';
import { appCatalog } from '../../render/app-catalog.js';
import { stateHashOf } from '../../render/app-hash.js';
import { ConflictError, ForbiddenError } from '../../server/errors.js';
import type { NodeRecord } from '../../server/session-core/node-registry.js';
import { nodeRecord as baseNodeRecord } from '../helpers/node-view.js';
import {
  SessionCore,
  type DurableSession,
  type RunningReplica,
  type SessionCoreCommand,
  type SessionCoreEvent,
} from '../../server/session-core/session-core.js';

const WRITER = appCatalog().find((a) => a.name === 'writer') as AppRef;

type Cmd<T extends SessionCoreCommand['type']> = Extract<SessionCoreCommand, { type: T }>;
const only = <T extends SessionCoreCommand['type']>(out: readonly SessionCoreCommand[], type: T): Cmd<T>[] =>
  out.filter((c): c is Cmd<T> => c.type === type);

function nodeRecord(nodeId: string, over: Partial<NodeRecord> = {}): NodeRecord {
  return baseNodeRecord(nodeId, [WRITER], over);
}

function durable(sessionId: string, over: Partial<DurableSession> = {}): DurableSession {
  return {
    meta: { sessionId, owner: 'o', app: WRITER, replicationFactor: 3, width: 800, height: 600, createdAt: 0 },
    headSeq: 0,
    snapshot: null,
    previousSnapshot: null,
    compactedThrough: 0,
    ...over,
  };
}

function inputs(from: number, to: number): SequencedInput[] {
  const out: SequencedInput[] = [];
  for (let seq = from; seq <= to; seq++) {
    out.push({ seq, time: seq, clientId: 'c', clientSeq: seq, event: { type: 'paste', text: 'x' } });
  }
  return out;
}

/** One core and a clock; `feed` applies an event at the current time. */
function rig(opts: { snapshotEvery?: number; adoptionWindowMs?: number; placement?: 'local' | 'table' } = {}) {
  const clock = { now: 1_000 };
  const core = new SessionCore({
    snapshotEvery: opts.snapshotEvery ?? 10,
    nodeDeadAfterMs: 5_000,
    checkpointTimeoutMs: 10_000,
    health: { staleAfterMs: 1_500, deadAfterMs: 5_000 },
    ...(opts.adoptionWindowMs === undefined ? {} : { adoptionWindowMs: opts.adoptionWindowMs }),
    ...(opts.placement === undefined ? {} : { placement: opts.placement }),
  });
  const feed = (e: SessionCoreEvent): SessionCoreCommand[] => core.handle(e, clock.now);
  /** Where each replica of the session runs: replicaId → nodeId. */
  const placement = (sessionId: string): Map<string, string> =>
    new Map([...core.session(sessionId).replicas.values()].map((r) => [r.replicaId, r.nodeId]));
  /** A producer and a status at the head: the replica is live. */
  const live = (sessionId: string, replicaId: string, stateHash = 'h0'): void => {
    const r = core.session(sessionId).replicas.get(replicaId);
    assert.ok(r, `replica ${replicaId} exists`);
    feed({ type: 'producer-attached', nodeId: r.nodeId, replicaId, producerId: `p-${replicaId}` });
    status(sessionId, replicaId, core.session(sessionId).headSeq, stateHash);
  };
  const status = (sessionId: string, replicaId: string, appliedSeq: number, stateHash: string) => {
    const r = core.session(sessionId).replicas.get(replicaId);
    assert.ok(r, `replica ${replicaId} exists`);
    return feed({
      type: 'replica-status',
      nodeId: r.nodeId,
      replicaId,
      status: { appliedSeq, stateHash, framesSent: 1 },
      selection: null,
    });
  };
  const allLive = (sessionId: string, stateHash = 'h0'): void => {
    for (const id of core.session(sessionId).replicas.keys()) live(sessionId, id, stateHash);
  };
  const heartbeats = (): void => {
    for (const n of core.nodes.all()) feed({ type: 'heartbeat', nodeId: n.nodeId, load: 0 });
  };
  return { core, clock, feed, placement, live, status, allLive, heartbeats };
}

describe('session core: placement applied', () => {
  it('places R replicas on distinct hosts and distinct admissions, each as a create command', () => {
    const { core, feed } = rig();
    feed({ type: 'node-joined', node: nodeRecord('a') });
    feed({ type: 'node-joined', node: nodeRecord('a2', { hostId: 'host-a' }) });
    feed({ type: 'node-joined', node: nodeRecord('b') });
    feed({ type: 'node-joined', node: nodeRecord('b2', { admissionId: 'token-b' }) });
    feed({ type: 'node-joined', node: nodeRecord('c') });
    const out = feed({ type: 'session-opened', session: durable('s1') });
    const created = only(out, 'create-replica');
    assert.equal(created.length, 3);
    const nodes = created.map((c) => core.nodes.get(c.nodeId));
    assert.equal(new Set(nodes.map((n) => n?.hostId)).size, 3, 'three hosts');
    assert.equal(new Set(nodes.map((n) => n?.admissionId)).size, 3, 'three admissions');
    for (const c of created) {
      assert.equal(c.assignment.sessionId, 's1');
      assert.deepEqual(c.assignment.app, WRITER);
      assert.equal(core.nodes.get(c.nodeId)?.replicas.get(c.assignment.replicaId), 's1');
    }
    assert.ok(only(out, 'session-update').length > 0, 'listeners are told');
  });

  it('keeps per-node and per-admission replica caps, and says when R is not met', () => {
    const { core, feed } = rig();
    feed({ type: 'node-joined', node: nodeRecord('a', { maxReplicas: 1 }) });
    feed({ type: 'node-joined', node: nodeRecord('b', { admissionMaxReplicas: 1 }) });
    feed({ type: 'node-joined', node: nodeRecord('c') });
    assert.equal(only(feed({ type: 'session-opened', session: durable('s1') }), 'create-replica').length, 3);
    const out = feed({ type: 'session-opened', session: durable('s2') });
    assert.deepEqual(
      only(out, 'create-replica').map((c) => c.nodeId),
      ['c'],
      'a and b are at their caps',
    );
    assert.ok(only(out, 'log').some((l) => l.level === 'warn' && /replication factor not met/.test(l.msg)));
    assert.equal(core.session('s2').activeReplicas().length, 1);
  });

  it('never places on a node that lacks the pinned app version', () => {
    const { feed } = rig();
    feed({ type: 'node-joined', node: nodeRecord('a', { apps: [{ name: 'writer', hash: 'other' }] }) });
    feed({ type: 'node-joined', node: nodeRecord('b') });
    const created = only(feed({ type: 'session-opened', session: durable('s1') }), 'create-replica');
    assert.deepEqual(
      created.map((c) => c.nodeId),
      ['b'],
    );
  });
});

describe('session core: reconcile after node loss', () => {
  it('a node that leaves loses its replicas and R is restored on a spare host, without telling the gone node', () => {
    const { core, feed, placement, allLive } = rig();
    for (const id of ['a', 'b', 'c']) feed({ type: 'node-joined', node: nodeRecord(id) });
    feed({ type: 'session-opened', session: durable('s1') });
    allLive('s1');
    feed({ type: 'node-joined', node: nodeRecord('d') });
    assert.equal(core.session('s1').replicas.size, 3, 'a spare node gets nothing while R is met');
    const [lostReplica] = [...placement('s1')].find(([, n]) => n === 'b') ?? [];
    const out = feed({ type: 'node-gone', nodeId: 'b', reason: 'socket closed' });
    const removed = only(out, 'replica-removed');
    assert.deepEqual(
      removed.map((r) => [r.replicaId, r.cause]),
      [[lostReplica, 'node-gone']],
    );
    assert.equal(only(out, 'close-replica').length, 0, 'nothing is sent to a gone node');
    const created = only(out, 'create-replica');
    assert.deepEqual(
      created.map((c) => c.nodeId),
      ['d'],
    );
    assert.notEqual(created[0]?.assignment.replicaId, lostReplica, 'a fresh replica id');
    assert.deepEqual([...placement('s1').values()].sort(), ['a', 'c', 'd']);
  });

  it('a node silent past the limit is disconnected and its replicas re-placed on the tick', () => {
    const { core, clock, feed, allLive, heartbeats } = rig();
    for (const id of ['a', 'b', 'c', 'd']) feed({ type: 'node-joined', node: nodeRecord(id) });
    feed({ type: 'session-opened', session: durable('s1') });
    allLive('s1');
    clock.now += 4_000;
    heartbeats();
    for (const r of core.session('s1').activeReplicas()) {
      feed({
        type: 'replica-status',
        nodeId: r.nodeId,
        replicaId: r.replicaId,
        status: { appliedSeq: 0, stateHash: 'h0', framesSent: 2 },
        selection: null,
      });
    }
    const hosting = core.session('s1').activeReplicas()[0]?.nodeId;
    assert.ok(hosting);
    clock.now += 3_000;
    // Every node but the one hosting the first replica keeps beating.
    for (const n of core.nodes.all()) if (n.nodeId !== hosting) feed({ type: 'heartbeat', nodeId: n.nodeId, load: 0 });
    for (const r of core.session('s1').activeReplicas()) {
      if (r.nodeId !== hosting) {
        feed({
          type: 'replica-status',
          nodeId: r.nodeId,
          replicaId: r.replicaId,
          status: { appliedSeq: 0, stateHash: 'h0', framesSent: 3 },
          selection: null,
        });
      }
    }
    clock.now += 2_500;
    const out = feed({ type: 'tick' });
    assert.deepEqual(
      only(out, 'disconnect-node').map((c) => c.nodeId),
      [hosting],
    );
    assert.equal(core.nodes.get(hosting), undefined);
    assert.equal(only(out, 'create-replica').length, 1, 'the lost replica is placed again');
    assert.equal(core.session('s1').activeReplicas().length, 3);
    assert.ok(
      !core
        .session('s1')
        .activeReplicas()
        .some((r) => r.nodeId === hosting),
    );
  });

  it('a refusal re-places the replica elsewhere and stops offering that node the app', () => {
    const { core, feed, placement } = rig();
    for (const id of ['a', 'b', 'c', 'd']) feed({ type: 'node-joined', node: nodeRecord(id) });
    feed({ type: 'session-opened', session: durable('s1') });
    const [replicaId, nodeId] = [...placement('s1')][0] ?? [];
    assert.ok(replicaId && nodeId);
    const out = feed({ type: 'replica-refused', nodeId, replicaId, code: 'app-version', reason: 'app hash unknown' });
    assert.equal(only(out, 'replica-removed')[0]?.cause, 'refused');
    assert.equal(only(out, 'create-replica').length, 1);
    assert.equal(core.nodes.get(nodeId)?.apps.length, 0, 'the node is not offered this app again');
    assert.throws(
      () => feed({ type: 'replica-refused', nodeId: 'b', replicaId: 'nope', code: 'policy', reason: 'x' }),
      ForbiddenError,
    );
  });
});

describe('session core: hash vote', () => {
  it('quarantines the divergent replica: divergence, close to its node, replacement on another host', () => {
    const { core, feed, placement, allLive, status } = rig({ snapshotEvery: 1_000 });
    for (const id of ['a', 'b', 'c', 'd']) feed({ type: 'node-joined', node: nodeRecord(id) });
    feed({ type: 'session-opened', session: durable('s1') });
    allLive('s1');
    feed({ type: 'inputs-sequenced', sessionId: 's1', inputs: inputs(1, 5), watched: new Set() });
    const [r1, r2, r3] = [...placement('s1').keys()];
    assert.ok(r1 && r2 && r3);
    status('s1', r1, 5, 'good');
    status('s1', r2, 5, 'good');
    status('s1', r3, 5, 'evil');
    const badNode = placement('s1').get(r3);
    const out = feed({ type: 'tick' });
    const div = only(out, 'divergence');
    assert.deepEqual(
      div.map((d) => [d.replicaId, d.seq, d.hash, d.majorityHash]),
      [[r3, 5, 'evil', 'good']],
    );
    assert.deepEqual(
      only(out, 'close-replica').map((c) => [c.nodeId, c.replicaId]),
      [[badNode, r3]],
    );
    assert.equal(only(out, 'replica-removed')[0]?.cause, 'diverged');
    const created = only(out, 'create-replica');
    assert.equal(created.length, 1);
    assert.notEqual(created[0]?.nodeId, badNode);
    assert.ok(core.session('s1').quarantinedHosts.has(`host-${badNode}`));
    // The quarantined host is not used again, even when a slot opens.
    const other = [...placement('s1')].find(([id]) => id !== created[0]?.assignment.replicaId)?.[1];
    assert.ok(other);
    const again = feed({ type: 'node-gone', nodeId: other, reason: 'x' });
    assert.ok(!only(again, 'create-replica').some((c) => c.nodeId === badNode));
  });

  it('a tie names no one', () => {
    const { feed, placement, allLive, status } = rig({ snapshotEvery: 1_000 });
    for (const id of ['a', 'b']) feed({ type: 'node-joined', node: nodeRecord(id) });
    feed({ type: 'session-opened', session: durable('s1', { meta: { ...durable('s1').meta, replicationFactor: 2 } }) });
    allLive('s1');
    feed({ type: 'inputs-sequenced', sessionId: 's1', inputs: inputs(1, 2), watched: new Set() });
    const [r1, r2] = [...placement('s1').keys()];
    assert.ok(r1 && r2);
    status('s1', r1, 2, 'x');
    status('s1', r2, 2, 'y');
    const out = feed({ type: 'tick' });
    assert.equal(only(out, 'divergence').length, 0);
    assert.equal(only(out, 'replica-removed').length, 0);
  });

  it('inputs go to every active replica, watched ones first', () => {
    const { feed, placement, allLive } = rig();
    for (const id of ['a', 'b', 'c']) feed({ type: 'node-joined', node: nodeRecord(id) });
    feed({ type: 'session-opened', session: durable('s1') });
    allLive('s1');
    const ids = [...placement('s1').keys()];
    const watched = ids[2];
    assert.ok(watched);
    const out = feed({ type: 'inputs-sequenced', sessionId: 's1', inputs: inputs(1, 3), watched: new Set([watched]) });
    const sent = only(out, 'send-inputs');
    assert.deepEqual(
      sent.map((s) => s.replicaId),
      [watched, ...ids.filter((id) => id !== watched)],
    );
    assert.ok(sent.every((s) => s.inputs.length === 3));
    // The manager may batch what goes to standbys (server/standby-inputs.ts): each command says which it is.
    assert.deepEqual(
      sent.map((s) => s.watched),
      [true, false, false],
    );
  });
});

describe('session core: snapshot policy', () => {
  const snap = (text: string) => {
    const data = Buffer.from(text);
    return { data, stateHash: stateHashOf(data) };
  };

  /** Three live replicas on three hosts, `n` inputs sequenced and applied by all. */
  function typed(n: number) {
    const r = rig({ snapshotEvery: 10 });
    for (const id of ['a', 'b', 'c']) r.feed({ type: 'node-joined', node: nodeRecord(id) });
    r.feed({ type: 'session-opened', session: durable('s1') });
    r.allLive('s1');
    const advance = (from: number, to: number, hash: string) => {
      r.feed({ type: 'inputs-sequenced', sessionId: 's1', inputs: inputs(from, to), watched: new Set() });
      for (const id of r.placement('s1').keys()) r.status('s1', id, to, hash);
    };
    advance(1, n, 'h');
    const answer = (replicaId: string, seq: number, s: { data: Buffer; stateHash: string }) => {
      const node = r.placement('s1').get(replicaId);
      assert.ok(node);
      return r.feed({ type: 'snapshot-answer', nodeId: node, replicaId, seq, ...s });
    };
    return { ...r, advance, answer };
  }

  it('the log compacted elsewhere: the core takes the newer snapshot and compaction, keeps its replicas and asks their status', () => {
    const a = typed(5);
    const before = [...a.placement('s1').keys()];
    const out = a.feed({
      type: 'log-compacted-elsewhere',
      session: durable('s1', {
        headSeq: 38,
        snapshot: { seq: 30, stateHash: 'h30' },
        previousSnapshot: { seq: 20, stateHash: 'h20' },
        compactedThrough: 20,
      }),
    });
    const s = a.core.session('s1');
    assert.deepEqual(
      [s.headSeq, s.snapshot?.seq, s.previousSnapshot?.seq, s.compactedThrough],
      [38, 30, 20, 20],
      'the durable facts, taken',
    );
    assert.deepEqual([...a.placement('s1').keys()], before, 'no replica removed or re-placed');
    assert.deepEqual(only(out, 'create-replica'), []);
    assert.deepEqual(
      only(out, 'ask-status')
        .map((c) => c.replicaId)
        .sort(),
      [...before].sort(),
      'every replica asked: its answer carries the new head, and it restores the snapshot',
    );
    assert.ok(only(out, 'log').some((l) => JSON.stringify(l.ctx['behind']) === JSON.stringify([...before].sort())));
    // Older facts never move it back.
    a.feed({ type: 'log-compacted-elsewhere', session: durable('s1', { headSeq: 10, compactedThrough: 4 }) });
    assert.deepEqual([s.headSeq, s.snapshot?.seq, s.compactedThrough], [38, 30, 20]);
    assert.equal(
      only(a.feed({ type: 'tick' }), 'ask-snapshot').length,
      0,
      'no checkpoint: the snapshot taken is recent',
    );
  });

  it('asks a checkpoint every N inputs, not before', () => {
    const a = typed(9);
    assert.equal(only(a.feed({ type: 'tick' }), 'ask-snapshot').length, 0, 'nine inputs: not yet');
    a.advance(10, 10, 'h');
    const asked = only(a.feed({ type: 'tick' }), 'ask-snapshot');
    assert.equal(asked.length, 3, 'every healthy live replica is asked');
    assert.ok(asked.every((c) => c.seq === 10));
    assert.equal(only(a.feed({ type: 'tick' }), 'ask-snapshot').length, 0, 'one checkpoint at a time');
  });

  it('stores only on quorum, believes it only once acknowledged, truncates only after the next one is stored', () => {
    const a = typed(10);
    a.feed({ type: 'tick' });
    const [r1, r2, r3] = [...a.placement('s1').keys()];
    assert.ok(r1 && r2 && r3);
    const s10 = snap('state@10');
    assert.deepEqual(a.answer(r1, 10, s10), [], 'one host alone decides nothing');
    assert.throws(() => a.answer(r2, 10, { data: Buffer.from('x'), stateHash: s10.stateHash }), ConflictError);
    const out = a.answer(r2, 10, s10);
    const store = only(out, 'store-snapshot');
    assert.equal(store.length, 1);
    assert.equal(store[0]?.seq, 10);
    assert.deepEqual(
      store[0]?.hosts,
      ['host-a', 'host-b'].filter((h) => store[0]?.hosts.includes(h)),
    );
    assert.equal(a.core.session('s1').snapshot, null, 'not believed before the write is acknowledged');
    assert.throws(() => a.answer(r3, 10, s10), ForbiddenError, 'a decided checkpoint takes no more answers');
    const stored = a.feed({ type: 'snapshot-stored', sessionId: 's1', seq: 10 });
    assert.deepEqual(a.core.session('s1').snapshot, { seq: 10, stateHash: s10.stateHash });
    assert.equal(only(stored, 'truncate-log').length, 0, 'nothing behind the first snapshot to truncate');
    assert.deepEqual(only(stored, 'snapshot-announced')[0], {
      type: 'snapshot-announced',
      sessionId: 's1',
      seq: 10,
      bytes: s10.data.length,
      truncated: 0,
    });

    // Second round: its store is acknowledged, then the log behind the first one goes.
    a.advance(11, 20, 'h2');
    a.feed({ type: 'tick' });
    const s20 = snap('state@20');
    a.answer(r1, 20, s20);
    assert.equal(only(a.answer(r3, 20, s20), 'store-snapshot').length, 1);
    assert.equal(only(a.feed({ type: 'tick' }), 'ask-snapshot').length, 0, 'no checkpoint while one is being written');
    const stored2 = a.feed({ type: 'snapshot-stored', sessionId: 's1', seq: 20 });
    assert.deepEqual(only(stored2, 'truncate-log'), [{ type: 'truncate-log', sessionId: 's1', throughSeq: 10 }]);
    assert.equal(a.core.session('s1').compactedThrough, 0, 'not compacted before the truncation is acknowledged');
    assert.deepEqual(a.core.session('s1').previousSnapshot, { seq: 10, stateHash: s10.stateHash });
    const done = a.feed({ type: 'log-truncated', sessionId: 's1', throughSeq: 10, truncated: 10 });
    assert.equal(a.core.session('s1').compactedThrough, 10);
    assert.equal(only(done, 'snapshot-announced')[0]?.truncated, 10);
  });

  it('a failed store changes nothing: no snapshot, no truncation, and a new checkpoint later', () => {
    const a = typed(10);
    a.feed({ type: 'tick' });
    const [r1, r2] = [...a.placement('s1').keys()];
    assert.ok(r1 && r2);
    const s10 = snap('state@10');
    a.answer(r1, 10, s10);
    a.answer(r2, 10, s10);
    const out = a.feed({ type: 'snapshot-store-failed', sessionId: 's1', seq: 10, error: 'disk full' });
    assert.equal(only(out, 'truncate-log').length, 0);
    assert.equal(only(out, 'snapshot-announced').length, 0);
    assert.equal(a.core.session('s1').snapshot, null);
    // A late "stored" for the failed write is not believed either.
    assert.deepEqual(a.feed({ type: 'snapshot-stored', sessionId: 's1', seq: 10 }), []);
    assert.equal(a.core.session('s1').snapshot, null);
    assert.equal(only(a.feed({ type: 'tick' }), 'ask-snapshot').length, 3, 'asked again');
  });

  it('a failed truncation leaves compaction where it was', () => {
    const a = typed(10);
    a.feed({ type: 'tick' });
    const [r1, r2] = [...a.placement('s1').keys()];
    assert.ok(r1 && r2);
    a.answer(r1, 10, snap('a'));
    a.answer(r2, 10, snap('a'));
    a.feed({ type: 'snapshot-stored', sessionId: 's1', seq: 10 });
    a.advance(11, 20, 'h2');
    a.feed({ type: 'tick' });
    a.answer(r1, 20, snap('b'));
    a.answer(r2, 20, snap('b'));
    a.feed({ type: 'snapshot-stored', sessionId: 's1', seq: 20 });
    const out = a.feed({ type: 'log-truncate-failed', sessionId: 's1', throughSeq: 10, error: 'io' });
    assert.equal(only(out, 'snapshot-announced').length, 0);
    assert.equal(a.core.session('s1').compactedThrough, 0);
    assert.equal(a.core.session('s1').snapshot?.seq, 20, 'the stored snapshot stands');
  });

  it('refuses unsolicited snapshots', () => {
    const a = typed(3);
    const [r1] = [...a.placement('s1').keys()];
    assert.ok(r1);
    assert.throws(() => a.answer(r1, 3, snap('x')), ForbiddenError);
  });

  it('a divergence right after restoring the latest snapshot blames the snapshot, not the host', () => {
    const r = rig({ snapshotEvery: 1_000 });
    const s = durable('s1', {
      headSeq: 30,
      snapshot: { seq: 20, stateHash: 'snap20' },
      previousSnapshot: { seq: 10, stateHash: 'snap10' },
      compactedThrough: 10,
    });
    for (const id of ['a', 'b', 'c', 'd']) r.feed({ type: 'node-joined', node: nodeRecord(id) });
    const created = only(r.feed({ type: 'session-opened', session: s }), 'create-replica');
    assert.ok(
      created.every((c) => c.assignment.snapshot?.seq === 20),
      'new replicas start from the latest',
    );
    r.allLive('s1');
    const [r1, r2, r3] = [...r.placement('s1').keys()];
    assert.ok(r1 && r2 && r3);
    r.status('s1', r1, 30, 'good');
    r.status('s1', r2, 30, 'good');
    r.status('s1', r3, 30, 'bad');
    const out = r.feed({ type: 'tick' });
    assert.deepEqual(only(out, 'drop-snapshot'), [
      { type: 'drop-snapshot', sessionId: 's1', seq: 20, fallbackSeq: 10 },
    ]);
    assert.equal(r.core.session('s1').quarantinedHosts.size, 0, 'the host is not blamed');
    assert.equal(
      only(out, 'create-replica')[0]?.assignment.snapshot?.seq,
      10,
      'the replacement starts from the one before',
    );
  });
});

describe('session core: leader hand-over', () => {
  it('a second core built from the same durable facts and node view adopts what runs and re-places nothing', () => {
    // The first core (the old leader) places and runs two sessions.
    const a = rig({ snapshotEvery: 1_000 });
    const nodes = ['a', 'b', 'c', 'd', 'e'].map((id) => nodeRecord(id));
    for (const n of nodes) a.feed({ type: 'node-joined', node: n });
    const facts = [
      durable('s1'),
      durable('s2', { headSeq: 40, snapshot: { seq: 30, stateHash: 'h30' }, compactedThrough: 0 }),
    ];
    for (const f of facts) a.feed({ type: 'session-opened', session: f });
    for (const f of facts) a.allLive(f.meta.sessionId, 'h');
    a.feed({ type: 'inputs-sequenced', sessionId: 's1', inputs: inputs(1, 7), watched: new Set() });
    for (const id of a.placement('s1').keys()) a.status('s1', id, 7, 'h7');

    // What a node would say it runs (from its own replicas), and the store's durable facts now.
    const running = (nodeId: string): RunningReplica[] =>
      [...(a.core.nodes.get(nodeId)?.replicas ?? [])].map(([replicaId, sessionId]) => {
        const r = a.core.session(sessionId).replicas.get(replicaId);
        assert.ok(r);
        return { replicaId, sessionId, appliedSeq: r.appliedSeq, stateHash: r.stateHash, producerId: r.producerId };
      });
    const nowFacts = facts.map((f) => ({ ...f, headSeq: a.core.session(f.meta.sessionId).headSeq }));

    // The new leader: durable facts first, then the current node view.
    const b = rig({ snapshotEvery: 1_000 });
    const out: SessionCoreCommand[] = [];
    for (const f of nowFacts) out.push(...b.feed({ type: 'session-opened', session: f }));
    out.push(
      ...b.feed({
        type: 'node-view',
        nodes: nodes.map((n) => ({ node: nodeRecord(n.nodeId), running: running(n.nodeId) })),
      }),
    );
    assert.equal(only(out, 'create-replica').length, 0, 'nothing that runs is placed again');
    assert.equal(only(out, 'close-replica').length, 0, 'nothing that runs is closed');
    for (const f of nowFacts) {
      const id = f.meta.sessionId;
      assert.deepEqual(b.placement(id), a.placement(id), `${id}: same placement`);
      assert.ok(
        b.core
          .session(id)
          .activeReplicas()
          .every((r) => r.state === 'live'),
        `${id}: replicas with a producer are live at once`,
      );
      assert.equal(b.core.session(id).headSeq, a.core.session(id).headSeq);
    }

    // And both reach the same decision when a node is lost next, with fresh (never reused) replica ids.
    const lost = a.core.session('s1').activeReplicas()[0]?.nodeId;
    assert.ok(lost);
    const fromA = only(a.feed({ type: 'node-gone', nodeId: lost, reason: 'killed' }), 'create-replica');
    const fromB = only(b.feed({ type: 'node-gone', nodeId: lost, reason: 'killed' }), 'create-replica');
    assert.ok(fromA.length > 0);
    assert.deepEqual(
      fromB.map((c) => [c.nodeId, c.assignment.replicaId, c.assignment.headSeq]),
      fromA.map((c) => [c.nodeId, c.assignment.replicaId, c.assignment.headSeq]),
    );
    const known = new Set([...a.placement('s1').keys(), ...a.placement('s2').keys()]);
    assert.ok(
      fromB.every((c) => known.has(c.assignment.replicaId)),
      'ids follow on from the old leader’s',
    );
  });

  it('a running replica that breaks the placement rules is told to close, and the gap is placed', () => {
    const b = rig();
    b.feed({ type: 'session-opened', session: durable('s1', { headSeq: 5 }) });
    // Two nodes of one host both claim a replica of s1: only one may stay.
    const twin = { hostId: 'host-x' };
    const first = b.feed({
      type: 'node-joined',
      node: nodeRecord('x1', twin),
      running: [{ replicaId: 's1.r1', sessionId: 's1', appliedSeq: 5, stateHash: 'h', producerId: 'p1' }],
    });
    assert.equal(only(first, 'close-replica').length, 0);
    const second = b.feed({
      type: 'node-joined',
      node: nodeRecord('x2', twin),
      running: [{ replicaId: 's1.r2', sessionId: 's1', appliedSeq: 5, stateHash: 'h', producerId: 'p2' }],
    });
    assert.deepEqual(
      only(second, 'close-replica').map((c) => [c.nodeId, c.replicaId]),
      [['x2', 's1.r2']],
    );
    // A replica of a session the store no longer has open is closed too.
    const stale = b.feed({
      type: 'node-joined',
      node: nodeRecord('y'),
      running: [{ replicaId: 'gone.r1', sessionId: 'gone', appliedSeq: 1, stateHash: 'h', producerId: null }],
    });
    assert.deepEqual(
      only(stale, 'close-replica').map((c) => c.replicaId),
      ['gone.r1'],
    );
    const created = only(stale, 'create-replica');
    assert.deepEqual(
      created.map((c) => [c.nodeId, c.assignment.replicaId]),
      [['y', 's1.r3']],
      'placed on the new host with an id after those it saw',
    );
  });
});

describe('session core: nodes that move home with held replicas', () => {
  // The node gateway checks tickets before the core sees a claim (replica-tickets.ts); here it is only carried.
  const held = (replicaId: string, appliedSeq: number, stateHash: string): HeldReplica => ({
    replicaId,
    sessionId: 's1',
    app: WRITER,
    ticket: 'A'.repeat(43),
    appliedSeq,
    stateHash,
  });

  it('a restored session waits the adoption window (core clock) for its holders before placing fresh replicas', () => {
    const { core, clock, feed } = rig({ adoptionWindowMs: 2_000 });
    feed({ type: 'session-opened', session: durable('s1', { headSeq: 5 }), restored: true });
    const spare = feed({ type: 'node-joined', node: nodeRecord('spare') });
    assert.equal(only(spare, 'create-replica').length, 0, 'the spare is not given the session in the window');
    const back = feed({ type: 'node-joined', node: nodeRecord('a'), held: [held('s1.r4', 5, 'h5')] });
    assert.deepEqual(only(back, 'replicas-adopted'), [
      { type: 'replicas-adopted', nodeId: 'a', adopted: [{ replicaId: 's1.r4', headSeq: 5 }] },
    ]);
    assert.equal(only(back, 'create-replica').length, 0);
    clock.now += 1_000;
    assert.equal(only(feed({ type: 'tick' }), 'create-replica').length, 0, 'still in the window');
    clock.now += 1_500;
    const after = only(feed({ type: 'tick' }), 'create-replica');
    assert.deepEqual(
      after.map((c) => [c.nodeId, c.assignment.replicaId]),
      [['spare', 's1.r5']],
      'once the window is over the rest is placed, with an id above the announced one',
    );
    assert.equal(core.session('s1').replicas.get('s1.r4')?.nodeId, 'a');
  });

  it('an adopted replica goes live only once the hash majority vouches for it; refused claims are answered', () => {
    const { core, feed, status } = rig();
    feed({ type: 'session-opened', session: durable('s1', { headSeq: 3 }) });
    const a = feed({
      type: 'node-joined',
      node: nodeRecord('a'),
      held: [held('s1.r1', 3, 'h3'), held('s1.r9', 4, 'h4'), held('other.r1', 0, 'h0')],
    });
    assert.deepEqual(
      only(a, 'replicas-adopted')[0]?.adopted.map((x) => x.replicaId),
      ['s1.r1'],
      'beyond the head and foreign ids are refused',
    );
    feed({ type: 'node-joined', node: nodeRecord('b'), held: [held('s1.r2', 3, 'hX')] });
    const state = (id: string) => core.session('s1').replicas.get(id)?.state;
    feed({ type: 'producer-attached', nodeId: 'a', replicaId: 's1.r1', producerId: 'p1' });
    feed({ type: 'producer-attached', nodeId: 'b', replicaId: 's1.r2', producerId: 'p2' });
    status('s1', 's1.r1', 3, 'h3');
    assert.equal(state('s1.r1'), 'catching-up', 'a tie vouches for no one');
    // A third holder comes back and agrees with r1.
    feed({ type: 'node-joined', node: nodeRecord('c'), held: [held('s1.r3', 3, 'h3')] });
    status('s1', 's1.r1', 3, 'h3');
    assert.equal(state('s1.r1'), 'live', 'vouched by two of three');
    status('s1', 's1.r2', 3, 'hX');
    assert.notEqual(state('s1.r2'), 'live', 'the outlier never goes live');
  });
});

describe('session core: placement from the cluster table', () => {
  const table = (...pairs: Array<[string, string]>) => pairs.map(([replicaId, nodeId]) => ({ replicaId, nodeId }));
  const created = (out: readonly SessionCoreCommand[]) =>
    only(out, 'create-replica').map((c) => [c.nodeId, c.assignment.replicaId]);

  it('places nothing on its own; runs what the table names on its nodes, with the ids given, and closes what it drops', () => {
    const { core, feed, placement } = rig({ placement: 'table' });
    feed({ type: 'session-opened', session: durable('s1') });
    assert.deepEqual(created(feed({ type: 'node-joined', node: nodeRecord('a') })), [], 'no entry: nothing');
    // r2 is on a node of another server: not this core's to run.
    const out = feed({ type: 'placement', sessionId: 's1', replicas: table(['s1.r1', 'a'], ['s1.r2', 'elsewhere']) });
    assert.deepEqual(created(out), [['a', 's1.r1']]);
    assert.deepEqual(created(feed({ type: 'node-joined', node: nodeRecord('b') })), [], 'a spare is not used');
    const moved = feed({ type: 'placement', sessionId: 's1', replicas: table(['s1.r1', 'a'], ['s1.r2', 'b']) });
    assert.deepEqual(created(moved), [['b', 's1.r2']], 'a node named later gets its replica');
    const dropped = feed({ type: 'placement', sessionId: 's1', replicas: table(['s1.r2', 'b']) });
    assert.deepEqual(
      only(dropped, 'close-replica').map((c) => [c.nodeId, c.replicaId]),
      [['a', 's1.r1']],
    );
    assert.deepEqual([...placement('s1')], [['s1.r2', 'b']]);
    assert.equal(core.session('s1').failed.size, 0, 'an unplaced replica did not fail');
  });

  it('an entry that arrives before its session is applied when the session opens', () => {
    const { feed } = rig({ placement: 'table' });
    feed({ type: 'node-joined', node: nodeRecord('a') });
    assert.deepEqual(created(feed({ type: 'placement', sessionId: 's1', replicas: table(['s1.r3', 'a']) })), []);
    assert.deepEqual(created(feed({ type: 'session-opened', session: durable('s1') })), [['a', 's1.r3']]);
  });

  it('a dead replica is closed and reported, never rebuilt here; the report goes once the table drops it', () => {
    const { core, clock, feed, heartbeats } = rig({ placement: 'table' });
    feed({ type: 'session-opened', session: durable('s1') });
    feed({ type: 'node-joined', node: nodeRecord('a') });
    feed({ type: 'placement', sessionId: 's1', replicas: table(['s1.r1', 'a']) });
    clock.now += 6_000;
    heartbeats(); // the node is alive; its replica never reported
    const out = feed({ type: 'tick' });
    assert.deepEqual(
      only(out, 'close-replica').map((c) => c.replicaId),
      ['s1.r1'],
    );
    assert.deepEqual(created(out), [], 'not rebuilt by this core');
    assert.deepEqual(
      [...core.session('s1').failed.values()],
      [{ replicaId: 's1.r1', nodeId: 'a', hostId: 'host-a', cause: 'unresponsive' }],
    );
    assert.deepEqual(created(feed({ type: 'tick' })), []);
    // The leader placed r2 on this server's other node instead.
    feed({ type: 'node-joined', node: nodeRecord('b') });
    const next = feed({ type: 'placement', sessionId: 's1', replicas: table(['s1.r2', 'b']) });
    assert.deepEqual(created(next), [['b', 's1.r2']]);
    assert.equal(core.session('s1').failed.size, 0);
  });

  it('a refusal is reported as such; held replicas are adopted only where the table names them on that node', () => {
    const { core, feed } = rig({ placement: 'table' });
    feed({ type: 'session-opened', session: durable('s1', { headSeq: 3 }) });
    feed({ type: 'placement', sessionId: 's1', replicas: table(['s1.r1', 'a'], ['s1.r2', 'b'], ['s1.r3', 'c']) });
    const held = (replicaId: string, app = WRITER): HeldReplica => ({
      replicaId,
      sessionId: 's1',
      app,
      ticket: 'A'.repeat(43),
      appliedSeq: 3,
      stateHash: 'h3',
    });
    const a = feed({ type: 'node-joined', node: nodeRecord('a'), held: [held('s1.r1'), held('s1.r2')] });
    assert.deepEqual(
      only(a, 'replicas-adopted')[0]?.adopted.map((x) => x.replicaId),
      ['s1.r1'],
      'r2 is named on another node',
    );
    assert.deepEqual(created(a), [], 'the adopted one is not created again');
    const other = { name: WRITER.name, hash: 'f'.repeat(16) };
    const b = feed({ type: 'node-joined', node: nodeRecord('b'), held: [held('s1.r2', other)] });
    assert.deepEqual(only(b, 'replicas-adopted')[0]?.adopted, []);
    assert.deepEqual(created(b), [], 'named but not adoptable: reported, not rebuilt under the same id');
    assert.equal(core.session('s1').failed.get('s1.r2')?.cause, 'refused');
    const c = feed({ type: 'node-joined', node: nodeRecord('c') });
    assert.deepEqual(created(c), [['c', 's1.r3']]);
    const refused = feed({
      type: 'replica-refused',
      nodeId: 'c',
      replicaId: 's1.r3',
      code: 'start-failed',
      reason: 'out of memory',
    });
    assert.deepEqual(created(refused), []);
    assert.equal(core.session('s1').failed.get('s1.r3')?.cause, 'refused');
  });
});
