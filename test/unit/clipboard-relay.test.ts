// ClipboardRelay with a fake session manager, fake nodes and a fake clock: the
// watched replica is asked first; one that does not answer within the hedge
// bound does not fail the copy (the next live replica is asked too, and the
// first answer wins); only the asked node and replica may answer; no answer
// at all fails with UnavailableError at the deadline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipboardRelay } from '../../server/clipboard-relay.js';
import { NotFoundError, UnavailableError } from '../../server/errors.js';
import type { SessionManager } from '../../server/session-manager.js';
import { fakeTimers } from '../helpers/fake-timers.js';

interface Sent {
  nodeId: string;
  replicaId: string;
  requestId: string;
  atSeq: number;
}

const REPLICAS = [
  { replicaId: 's.r1', nodeId: 'n1' },
  { replicaId: 's.r2', nodeId: 'n2' },
  { replicaId: 's.r3', nodeId: 'n3' },
];

/** A session at head 7 with three live replicas, each on its own connected node (`gone`: not connected). */
function fakeManager(sent: Sent[], gone = new Set<string>()): SessionManager {
  const session = { headSeq: 7, activeReplicas: () => REPLICAS.map((r) => ({ ...r, state: 'live' })) };
  const nodes = {
    get: (nodeId: string) =>
      gone.has(nodeId)
        ? undefined
        : {
            notify: (m: { replicaId: string; requestId: string; atSeq: number }) =>
              sent.push({ nodeId, replicaId: m.replicaId, requestId: m.requestId, atSeq: m.atSeq }),
          },
  };
  return { get: () => session, nodes } as unknown as SessionManager;
}

function setup(gone?: Set<string>) {
  const sent: Sent[] = [];
  const clock = fakeTimers();
  const relay = new ClipboardRelay(fakeManager(sent, gone), {
    timeoutMs: 5000,
    hedgeMs: 1500,
    schedule: clock.schedule,
  });
  return { sent, clock, relay };
}

describe('ClipboardRelay', () => {
  it('asks the watched replica alone, and its answer is the copy', async () => {
    const { sent, clock, relay } = setup();
    const copy = relay.copy('s', 3, 's.r2');
    assert.deepEqual(
      sent.map((s) => [s.nodeId, s.replicaId, s.atSeq]),
      [['n2', 's.r2', 3]],
    );
    relay.answer('n2', 's.r2', sent[0]!.requestId, 'hello', 4);
    assert.deepEqual(await copy, { text: 'hello', seq: 4 });
    clock.advance(10_000);
    assert.equal(sent.length, 1, 'nobody else was asked');
  });

  it('asks the next live replica when the first does not answer within the hedge bound; the first answer wins', async () => {
    const { sent, clock, relay } = setup();
    const copy = relay.copy('s', 3, 's.r1');
    clock.advance(1499);
    assert.equal(sent.length, 1);
    clock.advance(1);
    assert.deepEqual(
      sent.map((s) => s.replicaId),
      ['s.r1', 's.r2'],
    );
    relay.answer('n2', 's.r2', sent[1]!.requestId, 'from r2', 3);
    assert.deepEqual(await copy, { text: 'from r2', seq: 3 });
    // The slow one's late answer finds nothing to answer (the node hears not-found; nothing changes).
    assert.throws(() => relay.answer('n1', 's.r1', sent[0]!.requestId, 'late', 3), NotFoundError);
    clock.advance(10_000);
    assert.equal(sent.length, 2, 'one more replica at most, and none after the answer');
  });

  it('the slow first replica may still answer after the next was asked', async () => {
    const { sent, clock, relay } = setup();
    const copy = relay.copy('s', 0);
    clock.advance(1500);
    assert.equal(sent.length, 2);
    relay.answer(sent[0]!.nodeId, sent[0]!.replicaId, sent[0]!.requestId, null, 0);
    assert.deepEqual(await copy, { text: null, seq: 0 });
    assert.throws(() => relay.answer(sent[1]!.nodeId, sent[1]!.replicaId, sent[1]!.requestId, 'x', 0), NotFoundError);
  });

  it('takes an answer only from the node and replica that were asked', async () => {
    const { sent, relay } = setup();
    const copy = relay.copy('s', 3, 's.r1');
    const { requestId } = sent[0]!;
    assert.throws(() => relay.answer('n2', 's.r1', requestId, 'forged', 3), NotFoundError, 'another node');
    assert.throws(() => relay.answer('n1', 's.r3', requestId, 'forged', 3), NotFoundError, 'another replica');
    relay.answer('n1', 's.r1', requestId, 'real', 3);
    assert.deepEqual(await copy, { text: 'real', seq: 3 });
  });

  it('fails with UnavailableError when no replica answers by the deadline', async () => {
    const { sent, clock, relay } = setup();
    const copy = relay.copy('s', 3);
    clock.advance(1500);
    assert.equal(sent.length, 2);
    clock.advance(3500);
    await assert.rejects(copy, UnavailableError);
    assert.throws(
      () => relay.answer(sent[0]!.nodeId, sent[0]!.replicaId, sent[0]!.requestId, 'late', 3),
      NotFoundError,
    );
  });

  it('does not ask a replica whose node left before the hedge bound', async () => {
    const gone = new Set<string>();
    const { sent, clock, relay } = setup(gone);
    const copy = relay.copy('s', 3, 's.r1');
    gone.add('n2');
    clock.advance(1500);
    assert.deepEqual(
      sent.map((s) => s.replicaId),
      ['s.r1'],
    );
    clock.advance(3500);
    await assert.rejects(copy, UnavailableError);
  });

  it('refuses a seq beyond the head, and fails every copy in flight when closed', async () => {
    const { relay } = setup();
    assert.throws(() => relay.copy('s', 8), /beyond the session head/);
    const a = relay.copy('s', 1);
    const b = relay.copy('s', 2);
    relay.close();
    await assert.rejects(a, UnavailableError);
    await assert.rejects(b, UnavailableError);
  });
});
