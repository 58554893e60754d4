// What a home server keeps of the checkpoint answers it relayed
// (server/cluster/relayed-answers.ts), so that a lapsed registry lease (which
// takes the report and chunks out of etcd) is followed by all of it written
// again: the latest seq's answers per session, the bytes every named hash
// needs, and nothing once the snapshot is confirmed or the session is closed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayedAnswers, type RelayedAnswer } from '../../server/cluster/relayed-answers.js';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);

function answer(replicaId: string, seq: number, stateHash = H1, sessionId = 's1'): RelayedAnswer {
  return { sessionId, replicaId, seq, stateHash, data: Buffer.from(`${stateHash.slice(0, 4)}@${seq}`) };
}

describe('RelayedAnswers', () => {
  it("collects a seq's answers into one report and keeps each named hash's bytes once", () => {
    const r = new RelayedAnswers();
    r.add('srv', answer('s1.r1', 10), 1);
    const report = r.add('srv', answer('s1.r2', 10), 1);
    assert.deepEqual(report, {
      serverId: 'srv',
      sessionId: 's1',
      seq: 10,
      answers: [
        { replicaId: 's1.r1', stateHash: H1, bytes: 7, chunks: 1 },
        { replicaId: 's1.r2', stateHash: H1, bytes: 7, chunks: 1 },
      ],
    });
    assert.deepEqual([...(r.get('s1')?.data.keys() ?? [])], [H1]);
  });

  it('everything relayed is there to write again after a lapsed lease, per session', () => {
    const r = new RelayedAnswers();
    r.add('srv', answer('s1.r1', 10), 1);
    r.add('srv', answer('s2.r1', 4, H2, 's2'), 2);
    const again = r.all();
    assert.deepEqual(
      again.map((s) => [s.report.sessionId, s.report.seq, [...s.data.keys()]]),
      [
        ['s1', 10, [H1]],
        ['s2', 4, [H2]],
      ],
    );
    assert.equal(again[1]?.data.get(H2)?.toString(), 'bbbb@4');
  });

  it('a new seq starts a new report; a replica answering again replaces its answer and drops unnamed bytes', () => {
    const r = new RelayedAnswers();
    r.add('srv', answer('s1.r1', 10), 1);
    r.add('srv', answer('s1.r1', 10, H2), 1);
    assert.deepEqual(
      r.get('s1')?.report.answers.map((a) => a.stateHash),
      [H2],
    );
    assert.deepEqual([...(r.get('s1')?.data.keys() ?? [])], [H2], 'the bytes of H1 are no longer kept');
    r.add('srv', answer('s1.r2', 20), 1);
    assert.equal(r.get('s1')?.report.seq, 20);
    assert.equal(r.get('s1')?.report.answers.length, 1);
  });

  it('is emptied by a confirmation at or past its seq, and by the close', () => {
    const r = new RelayedAnswers();
    r.add('srv', answer('s1.r1', 10), 1);
    r.add('srv', answer('s2.r1', 5, H1, 's2'), 1);
    r.confirmed('s1', 9);
    assert.ok(r.get('s1'), 'an older confirmation keeps it');
    r.confirmed('s1', 10);
    assert.equal(r.get('s1'), undefined);
    r.forget('s2');
    assert.deepEqual(r.all(), []);
  });
});
