// A replica's app failing (replica.failed) and typed refusals, in the pure
// session core: fake nodes, a fake clock. One host's failure re-places at
// once; replicas on a quorum of hosts failing at one seq fail the session.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppFailure } from '../../protocol/replica-failure.js';
import { isPermanentRefusal } from '../../protocol/replica-failure.js';
import { NodeRequestSchema } from '../../protocol/signalling.js';
import type { AppRef } from '../../protocol/session.js';
import { appCatalog } from '../../render/app-catalog.js';
import { BadRequestError } from '../../server/errors.js';
import { appFailureReason, isAppStartFailure, refusalCodeOf } from '../../render/app-failure.js';
import { BundleFormatError, BundleHashError } from '../../render/bundle/errors.js';
import { AppPolicyError, AppVersionError } from '../../render/errors.js';
import { AppCodeError, AppStoppedError, SandboxLimitError } from '../../render/sandbox/errors.js';
import {
  appFailureQuorum,
  SessionCore,
  type SessionCoreCommand,
  type SessionCoreEvent,
} from '../../server/session-core/session-core.js';
import { nodeRecord } from '../helpers/node-view.js';
import { appFailureBanner } from '../../viewer/app-failure-banner.js';

const WRITER = appCatalog().find((a) => a.name === 'writer') as AppRef;
const HEAD = 12;

function rig(replicationFactor: number, nodes: string[], placement: 'local' | 'table' = 'local') {
  const clock = { now: 1_000 };
  const core = new SessionCore({
    snapshotEvery: 1_000,
    nodeDeadAfterMs: 5_000,
    checkpointTimeoutMs: 10_000,
    health: { staleAfterMs: 1_500, deadAfterMs: 5_000 },
    placement,
  });
  const feed = (e: SessionCoreEvent): SessionCoreCommand[] => core.handle(e, clock.now);
  for (const id of nodes) feed({ type: 'node-joined', node: nodeRecord(id, [WRITER]) });
  feed({
    type: 'session-opened',
    session: {
      meta: { sessionId: 's1', owner: 'o', app: WRITER, replicationFactor, width: 800, height: 600, createdAt: 0 },
      headSeq: HEAD,
      snapshot: null,
      previousSnapshot: null,
      compactedThrough: 0,
    },
  });
  const replicas = () => [...core.session('s1').replicas.values()];
  /** The node of replica `replicaId` says its app failed at `seq`. */
  const fail = (replicaId: string, seq: number, reason: AppFailure['reason'] = 'app-threw') => {
    const r = core.session('s1').replicas.get(replicaId);
    assert.ok(r, `replica ${replicaId} exists`);
    return feed({ type: 'replica-failed', nodeId: r.nodeId, replicaId, failure: { seq, reason, message: 'boom' } });
  };
  return { core, feed, clock, replicas, fail };
}

const created = (out: readonly SessionCoreCommand[]) =>
  out.flatMap((c) => (c.type === 'create-replica' ? [c.nodeId] : []));

describe('session core: a failed app replica', () => {
  it('one host failing re-places its replica at once, without waiting for a status timeout', () => {
    const { core, replicas, fail } = rig(2, ['a', 'b', 'c']);
    const [first] = replicas();
    assert.ok(first);
    const out = fail(first.replicaId, 7);
    const removed = out.find((c) => c.type === 'replica-removed');
    assert.equal(removed?.type === 'replica-removed' && removed.cause, 'app-failed');
    assert.equal(created(out).length, 1, 'a replacement is placed in the same step');
    assert.equal(core.session('s1').appFailure, null);
    assert.equal(core.info('s1', 1_000).appFailure, undefined);
    assert.equal(core.session('s1').activeReplicas().length, 2);
  });

  it('replicas on two hosts failing at the same seq fail the session there, and nothing is placed again', () => {
    const { core, feed, clock, replicas, fail } = rig(2, ['a', 'b', 'c', 'd']);
    const [r1, r2] = replicas();
    assert.ok(r1 && r2);
    assert.notEqual(r1.hostId, r2.hostId);
    assert.equal(created(fail(r1.replicaId, 9)).length, 1);
    const out = fail(r2.replicaId, 9, 'app-timeout');
    assert.deepEqual(created(out), [], 'the second host at the same seq stops placement');
    const info = core.info('s1', clock.now);
    assert.deepEqual(info.appFailure, { seq: 9, reason: 'app-timeout', message: 'boom' });
    assert.ok(out.some((c) => c.type === 'session-update'));
    // The replacement placed after the first failure fails there too: still no new placement.
    const [left] = replicas();
    assert.ok(left);
    assert.deepEqual(created(fail(left.replicaId, 9)), []);
    // Neither a tick after the status timeout nor a new node brings a replica back.
    clock.now += 60_000;
    assert.deepEqual(created(feed({ type: 'tick' })), []);
    assert.deepEqual(created(feed({ type: 'node-joined', node: nodeRecord('e', [WRITER]) })), []);
    assert.equal(core.session('s1').activeReplicas().length, 0);
    assert.equal(core.session('s1').headSeq, HEAD, 'the log head is kept');
  });

  it('a single lying host cannot fail the session, however often its replicas report', () => {
    const { core, replicas, fail } = rig(2, ['a', 'b']);
    const liar = replicas()[0];
    assert.ok(liar);
    for (let i = 0; i < 5; i++) {
      const mine = replicas().find((r) => r.hostId === liar.hostId);
      assert.ok(mine, 'the liar got a replacement again');
      fail(mine.replicaId, 4);
    }
    assert.equal(core.session('s1').appFailure, null);
    assert.equal(core.session('s1').activeReplicas().length, 2);
  });

  it('failures at different seqs on two hosts are not a deterministic failure', () => {
    const { core, replicas, fail } = rig(2, ['a', 'b', 'c']);
    const [r1, r2] = replicas();
    assert.ok(r1 && r2);
    fail(r1.replicaId, 3);
    fail(r2.replicaId, 5);
    assert.equal(core.session('s1').appFailure, null);
  });

  it('with replication 5 a majority of hosts is needed, not two', () => {
    assert.equal(appFailureQuorum(2), 2);
    assert.equal(appFailureQuorum(3), 2);
    assert.equal(appFailureQuorum(5), 3);
    const { core, replicas, fail } = rig(5, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    const [r1, r2, r3] = replicas();
    assert.ok(r1 && r2 && r3);
    fail(r1.replicaId, 6);
    fail(r2.replicaId, 6);
    assert.equal(core.session('s1').appFailure, null, 'two of five hosts are not a majority');
    fail(r3.replicaId, 6);
    assert.equal(core.session('s1').appFailure?.seq, 6);
  });

  it('cluster mode: failures are relayed to the leader, never counted here; the failed state comes from the table', () => {
    const { core, feed, fail } = rig(2, ['a', 'b', 'c'], 'table');
    const name = (replicas: [string, string][], appFailure: AppFailure | null = null) =>
      feed({
        type: 'placement',
        sessionId: 's1',
        replicas: replicas.map(([replicaId, nodeId]) => ({ replicaId, nodeId })),
        appFailure,
      });
    assert.equal(
      created(
        name([
          ['s1.r1', 'a'],
          ['s1.r2', 'b'],
        ]),
      ).length,
      2,
    );
    const first = fail('s1.r1', 5);
    assert.deepEqual(created(first), [], 'the leader places the replacement, not this core');
    assert.ok(
      first.some((c) => c.type === 'session-update'),
      'the health report goes out',
    );
    assert.equal(core.session('s1').failed.get('s1.r1')?.cause, 'refused');
    assert.deepEqual(
      created(
        name([
          ['s1.r2', 'b'],
          ['s1.r3', 'c'],
        ]),
      ),
      ['c'],
    );
    fail('s1.r2', 5);
    // Two hosts here failed at seq 5, but the quorum is the leader's to count, over every server.
    assert.equal(core.session('s1').appFailure, null);
    assert.deepEqual(
      [...core.session('s1').relayedAppFailures.values()].map((f) => [f.replicaId, f.hostId, f.seq, f.reason]),
      [['s1.r2', 'host-b', 5, 'app-threw']],
      "relayed until the table drops the replica (r1's went when the leader re-placed it)",
    );
    const failure: AppFailure = { seq: 5, reason: 'app-threw', message: 'boom' };
    const out = name(
      [
        ['s1.r3', 'c'],
        ['s1.r4', 'a'],
      ],
      failure,
    );
    assert.deepEqual(created(out), [], 'nothing new is started once the table says the app failed');
    assert.ok(
      out.some((c) => c.type === 'session-update'),
      'viewers hear of it',
    );
    assert.deepEqual(core.session('s1').appFailure, failure);
    assert.deepEqual(core.info('s1', 1_000).appFailure, failure);
  });

  it('a failure beyond the head or for a replica the node does not own is refused', () => {
    const { feed, replicas, fail } = rig(2, ['a', 'b']);
    const [r1] = replicas();
    assert.ok(r1);
    assert.throws(() => fail(r1.replicaId, HEAD + 1), BadRequestError);
    assert.throws(() =>
      feed({
        type: 'replica-failed',
        nodeId: r1.nodeId === 'a' ? 'b' : 'a',
        replicaId: r1.replicaId,
        failure: { seq: 1, reason: 'app-threw', message: 'x' },
      }),
    );
  });
});

describe('session core: typed refusals', () => {
  it('a transient refusal re-places without marking the app refused on that node', () => {
    const { core, feed, replicas } = rig(2, ['a', 'b', 'c']);
    const [r1] = replicas();
    assert.ok(r1);
    const out = feed({
      type: 'replica-refused',
      nodeId: r1.nodeId,
      replicaId: r1.replicaId,
      code: 'load-timeout',
      reason: 'app bundle hash x: load did not answer within 5000 ms',
    });
    assert.equal(created(out).length, 1);
    assert.equal(core.nodes.get(r1.nodeId)?.apps.length, 1, 'the words "app", "bundle" and "hash" no longer matter');
  });

  it('a permanent refusal stops offering that node the app', () => {
    const { core, feed, replicas } = rig(2, ['a', 'b', 'c']);
    const [r1] = replicas();
    assert.ok(r1);
    feed({ type: 'replica-refused', nodeId: r1.nodeId, replicaId: r1.replicaId, code: 'app-version', reason: 'x' });
    assert.equal(core.nodes.get(r1.nodeId)?.apps.length, 0);
  });

  it('only hash, format, policy and version codes are permanent', () => {
    assert.deepEqual(
      (['bundle-hash', 'bundle-invalid', 'policy', 'app-version', 'load-timeout', 'start-failed'] as const).filter(
        isPermanentRefusal,
      ),
      ['bundle-hash', 'bundle-invalid', 'policy', 'app-version'],
    );
  });

  it('the wire schemas take typed codes and refuse unknown ones', () => {
    const failed = { type: 'replica.failed', replicaId: 's1.r1', reason: 'app-memory', seq: 3, message: 'heap' };
    assert.ok(NodeRequestSchema.safeParse(failed).success);
    assert.equal(NodeRequestSchema.safeParse({ ...failed, reason: 'tired' }).success, false);
    assert.equal(NodeRequestSchema.safeParse({ ...failed, seq: -1 }).success, false);
    const refuse = { type: 'replica.refuse', replicaId: 's1.r1', reason: 'x' };
    assert.ok(NodeRequestSchema.safeParse({ ...refuse, code: 'policy' }).success);
    assert.ok(NodeRequestSchema.safeParse(refuse).success, 'older nodes send no code');
    assert.equal(NodeRequestSchema.safeParse({ ...refuse, code: 'bundle' }).success, false);
  });
});

describe('node side: typed codes from the sandbox and bundle errors', () => {
  it('a running app failure is classified by what stopped it', () => {
    assert.equal(appFailureReason(new AppCodeError('app x: apply threw: boom', { op: 'apply' })), 'app-threw');
    assert.equal(appFailureReason(new Error('a built-in app threw')), 'app-threw');
    assert.equal(appFailureReason(new AppStoppedError('x', { op: 'apply', stop: 'timeout' })), 'app-timeout');
    assert.equal(appFailureReason(new AppStoppedError('x', { op: 'render', stop: 'memory' })), 'app-memory');
    assert.equal(appFailureReason(new SandboxLimitError('too many pixels')), 'app-memory');
    assert.equal(appFailureReason(new AppCodeError('app x: load threw: y', { op: 'load' })), 'app-load');
  });

  it('a start refusal is permanent only for hash, format, policy and version errors', () => {
    assert.equal(refusalCodeOf(new BundleHashError('x')), 'bundle-hash');
    assert.equal(refusalCodeOf(new BundleFormatError('x')), 'bundle-invalid');
    assert.equal(refusalCodeOf(new AppPolicyError('x')), 'policy');
    assert.equal(refusalCodeOf(new AppVersionError('x')), 'app-version');
    // The words of a sandbox message ("app", "bundle", "hash") do not matter any more.
    const slow = new AppStoppedError('app bundle hash: load did not answer within 5000 ms', {
      op: 'load',
      stop: 'timeout',
    });
    assert.equal(refusalCodeOf(slow), 'load-timeout');
    assert.equal(isPermanentRefusal(refusalCodeOf(slow)), false);
    assert.equal(isAppStartFailure(slow), false, 'a slow load is the machine, not the app');
    assert.equal(isAppStartFailure(new AppCodeError('init threw', { op: 'init' })), true);
    assert.equal(refusalCodeOf(new Error('fetch failed')), 'start-failed');
  });
});

describe('viewer: the failed-app banner', () => {
  it('shows the seq and reason once, and clears when the failure is gone', () => {
    const shown: string[] = [];
    const cleared: string[] = [];
    const show = appFailureBanner({
      show: (kind, text) => shown.push(`${kind}:${text}`),
      clear: (key) => cleared.push(key),
    });
    show(undefined);
    assert.deepEqual(shown, []);
    const failure: AppFailure = { seq: 7, reason: 'app-timeout', message: 'apply did not answer within 600 ms' };
    show(failure);
    show({ ...failure });
    assert.equal(shown.length, 1, 'not rebuilt on every session update');
    assert.match(shown[0] ?? '', /^error:The app failed at input 7: it ran past its time limit/);
    show(undefined);
    assert.deepEqual(cleared, ['app-failure']);
  });
});
