// The cluster-wide checkpoint's pure parts: the leader's vote over relayed
// answers (cluster-checkpoint-vote.ts) and a table-mode session core, which
// asks its replicas when the leader wants a checkpoint and relays each
// verified answer without deciding anything itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckpointReport } from '../../protocol/cluster-state.js';
import { appCatalog } from '../../render/app-catalog.js';
import { stateHashOf } from '../../render/app-hash.js';
import { ConflictError, ForbiddenError } from '../../server/errors.js';
import { decideClusterCheckpoint, type PlacedTarget } from '../../server/session-core/cluster-checkpoint-vote.js';
import { SessionCore, type DurableSession, type SessionCoreCommand } from '../../server/session-core/session-core.js';
import type { AppRef } from '../../protocol/session.js';
import { nodeRecord } from '../helpers/node-view.js';

const H1 = 'a'.repeat(32);
const H2 = 'b'.repeat(32);

const placed: PlacedTarget[] = [
  { replicaId: 's.r1', hostId: 'host-a', homeServerId: 'pa' },
  { replicaId: 's.r2', hostId: 'host-b', homeServerId: 'pb' },
  { replicaId: 's.r3', hostId: 'host-c', homeServerId: 'pc' },
];

function report(serverId: string, seq: number, ...answers: Array<[string, string]>): CheckpointReport {
  return {
    serverId,
    sessionId: 's',
    seq,
    answers: answers.map(([replicaId, stateHash]) => ({ replicaId, stateHash, bytes: 10, chunks: 1 })),
  };
}

describe('cluster checkpoint vote', () => {
  it('confirms when replicas on a majority of hosts, relayed by their home servers, agree', () => {
    const d = decideClusterCheckpoint(
      40,
      placed,
      [report('pa', 40, ['s.r1', H1]), report('pb', 40, ['s.r2', H1]), report('pc', 40, ['s.r3', H2])],
      3,
    );
    assert.ok(d);
    assert.equal(d.stateHash, H1);
    assert.deepEqual(d.hosts, ['host-a', 'host-b']);
    assert.equal(d.seq, 40);
  });

  it('one host alone is no quorum, even with R=1 or R=2 counted', () => {
    assert.equal(decideClusterCheckpoint(40, placed, [report('pa', 40, ['s.r1', H1])], 1), null);
    assert.equal(
      decideClusterCheckpoint(40, placed, [report('pa', 40, ['s.r1', H1]), report('pb', 40, ['s.r2', H2])], 2),
      null,
    );
  });

  it('a server cannot vote for replicas homed elsewhere, nor for another seq', () => {
    // pa forges answers for r2 and r3: only its own r1 counts.
    const forged = report('pa', 40, ['s.r1', H2], ['s.r2', H2], ['s.r3', H2]);
    assert.equal(decideClusterCheckpoint(40, placed, [forged, report('pb', 40, ['s.r2', H1])], 3), null);
    const stale = report('pc', 39, ['s.r3', H1]);
    assert.equal(decideClusterCheckpoint(40, placed, [report('pb', 40, ['s.r2', H1]), stale], 3), null);
  });

  it('a replica not in the table does not count', () => {
    const extra = report('pc', 40, ['s.r9', H1]);
    assert.equal(decideClusterCheckpoint(40, placed, [report('pb', 40, ['s.r2', H1]), extra], 3), null);
  });
});

const WRITER = appCatalog().find((a) => a.name === 'writer') as AppRef;

function durable(): DurableSession {
  return {
    meta: { sessionId: 's', owner: 'o', app: WRITER, replicationFactor: 3, width: 800, height: 600, createdAt: 0 },
    headSeq: 50,
    snapshot: null,
    previousSnapshot: null,
    compactedThrough: 0,
  };
}

describe('session core in table mode: a relay for the leader checkpoint', () => {
  function rig() {
    const core = new SessionCore({
      snapshotEvery: 10,
      nodeDeadAfterMs: 5_000,
      checkpointTimeoutMs: 10_000,
      health: { staleAfterMs: 1_500, deadAfterMs: 5_000 },
      placement: 'table',
    });
    const clock = { now: 1_000 };
    const feed = (e: Parameters<SessionCore['handle']>[0]): SessionCoreCommand[] => core.handle(e, clock.now);
    feed({ type: 'session-opened', session: durable() });
    feed({ type: 'node-joined', node: nodeRecord('a', [WRITER]) });
    feed({ type: 'placement', sessionId: 's', replicas: [{ replicaId: 's.r1', nodeId: 'a' }] });
    feed({ type: 'producer-attached', nodeId: 'a', replicaId: 's.r1', producerId: 'p' });
    feed({
      type: 'replica-status',
      nodeId: 'a',
      replicaId: 's.r1',
      status: { appliedSeq: 50, stateHash: 'h', framesSent: 1 },
      selection: null,
    });
    return { core, feed, clock };
  }

  it('asks nothing on its own past the interval (one server is no quorum)', () => {
    const { feed } = rig();
    assert.deepEqual(
      feed({ type: 'tick' }).filter((c) => c.type === 'ask-snapshot'),
      [],
    );
  });

  it('asks its replicas at the leader seq and relays a verified answer without deciding', () => {
    const { feed } = rig();
    const asked = feed({ type: 'checkpoint-wanted', sessionId: 's', seq: 48 });
    assert.deepEqual(
      asked.filter((c) => c.type === 'ask-snapshot'),
      [{ type: 'ask-snapshot', nodeId: 'a', replicaId: 's.r1', seq: 48 }],
    );
    assert.deepEqual(feed({ type: 'checkpoint-wanted', sessionId: 's', seq: 48 }), [], 'asked once');
    const data = Buffer.from('state at 48');
    const out = feed({
      type: 'snapshot-answer',
      nodeId: 'a',
      replicaId: 's.r1',
      seq: 48,
      stateHash: stateHashOf(data),
      data,
    });
    assert.deepEqual(
      out.map((c) => c.type),
      ['checkpoint-answer'],
    );
    const a = out[0];
    assert.ok(a?.type === 'checkpoint-answer');
    assert.equal(a.hostId, 'host-a');
    assert.equal(a.seq, 48);
    assert.ok(a.data.equals(data));
  });

  it('refuses bytes that do not match their hash, and answers nobody asked for', () => {
    const { feed } = rig();
    const data = Buffer.from('x');
    assert.throws(
      () =>
        feed({ type: 'snapshot-answer', nodeId: 'a', replicaId: 's.r1', seq: 48, stateHash: stateHashOf(data), data }),
      ForbiddenError,
    );
    feed({ type: 'checkpoint-wanted', sessionId: 's', seq: 48 });
    assert.throws(
      () => feed({ type: 'snapshot-answer', nodeId: 'a', replicaId: 's.r1', seq: 48, stateHash: H1, data }),
      ConflictError,
    );
  });

  it('a confirmed cluster snapshot is where a replica placed afterwards starts', () => {
    const { feed } = rig();
    const snapshot = { seq: 40, stateHash: H1 };
    const out = feed({
      type: 'cluster-snapshot-confirmed',
      session: { ...durable(), snapshot, previousSnapshot: { seq: 20, stateHash: H2 }, compactedThrough: 20 },
    });
    assert.deepEqual(
      out.filter((c) => c.type === 'ask-status' || c.type === 'create-replica'),
      [],
      'running replicas are left alone',
    );
    feed({ type: 'node-joined', node: nodeRecord('b', [WRITER]) });
    const placed = feed({
      type: 'placement',
      sessionId: 's',
      replicas: [
        { replicaId: 's.r1', nodeId: 'a' },
        { replicaId: 's.r2', nodeId: 'b' },
      ],
    });
    const created = placed.find((c) => c.type === 'create-replica');
    assert.ok(created?.type === 'create-replica');
    assert.equal(created.assignment.replicaId, 's.r2');
    assert.deepEqual(created.assignment.snapshot, snapshot);
  });

  it('the same seq asked again after the timeout asks the replicas anew', () => {
    const { feed, clock } = rig();
    feed({ type: 'checkpoint-wanted', sessionId: 's', seq: 48 });
    clock.now += 9_000;
    assert.deepEqual(feed({ type: 'checkpoint-wanted', sessionId: 's', seq: 48 }), [], 'not within the timeout');
    clock.now += 2_000;
    assert.deepEqual(
      feed({ type: 'checkpoint-wanted', sessionId: 's', seq: 48 }).filter((c) => c.type === 'ask-snapshot'),
      [{ type: 'ask-snapshot', nodeId: 'a', replicaId: 's.r1', seq: 48 }],
    );
  });
});
