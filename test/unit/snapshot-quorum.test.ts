// Snapshots are trusted only by quorum: the session manager driven by fake
// renderer nodes (real SQLite log, real sequencer, real writer app, a fixed
// fake clock), and the pure checkpoint rule underneath it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { types } from 'mediasoup';
import type { SequencedInput } from '../../protocol/input.js';
import type { NodeNotification, ReplicaAssignment } from '../../protocol/signalling.js';
import { appCatalog } from '../../render/app-catalog.js';
import { stateHashOf } from '../../render/app-hash.js';
import type { App } from '../../render/app-types.js';
import { getApp } from '../../render/apps/index.js';
import { loadServerConfig } from '../../server/config.js';
import { openDatabase } from '../../server/database.js';
import { ForbiddenError } from '../../server/errors.js';
import type { RegisteredNode } from '../../server/node-port.js';
import { Sequencer } from '../../server/sequencer.js';
import { SessionManager } from '../../server/session-manager.js';
import { SqliteSessionStore } from '../../server/sqlite-session-store.js';
import type { Sfu } from '../../server/sfu.js';
import { SnapshotCheckpoint, snapshotQuorum } from '../../server/session-core/snapshot-checkpoint.js';
import { SqliteInputLog } from '../../server/sqlite-input-log.js';
import { StreamWatchers } from '../../server/stream-watchers.js';
import { nodeRecord } from '../helpers/node-view.js';
import { makeTmpDir } from '../helpers/tmpdir.js';

const writer = getApp('writer');
/** The fake clock never moves: heartbeats and statuses never age, so health follows only what the test reports. */
const NOW = 1_000_000;

/** One replica as a fake node runs it: the real writer app applying what the server sends. */
class FakeReplica {
  state: unknown;
  applied = 0;
  constructor(
    readonly app: App<unknown>,
    readonly assignment: ReplicaAssignment,
  ) {
    this.state = app.init({ width: assignment.width, height: assignment.height });
  }
  /** Its state's bytes after every seq it applied: a checkpoint asks for one seq exactly. */
  readonly history = new Map<number, Buffer>();
  apply(inputs: readonly SequencedInput[]): void {
    for (const i of inputs) {
      if (i.seq !== this.applied + 1) continue;
      this.state = this.app.apply(this.state, i);
      this.applied = i.seq;
      this.history.set(i.seq, this.app.snapshot(this.state));
    }
  }
  snapshot(seq = this.applied): { seq: number; stateHash: string; data: Buffer } {
    const data = seq === this.applied ? this.app.snapshot(this.state) : this.history.get(seq);
    assert.ok(data, `state at seq ${seq} kept`);
    return { seq, stateHash: stateHashOf(data), data };
  }
  forged(seq = this.applied): { seq: number; stateHash: string; data: Buffer } {
    const bad = this.app.apply(this.app.restore(this.snapshot(seq).data), {
      seq,
      time: 0,
      clientId: 'evil',
      clientSeq: 0,
      event: { type: 'paste', text: 'FORGED' },
    });
    const data = this.app.snapshot(bad);
    return { seq, stateHash: stateHashOf(data), data };
  }
}

class FakeNode {
  readonly inbox: NodeNotification[] = [];
  readonly replicas = new Map<string, FakeReplica>();
  readonly node: RegisteredNode;
  constructor(
    readonly manager: SessionManager,
    readonly nodeId: string,
    readonly hostId: string,
  ) {
    this.node = {
      ...nodeRecord(nodeId, appCatalog(), {
        hostId,
        admissionId: `token-${hostId}`,
        warmApps: ['writer'],
        registeredAt: NOW,
        lastHeartbeatAt: NOW,
      }),
      notify: (n) => this.#onNotify(n),
      disconnect: () => undefined,
    };
    manager.registerNode(this.node);
  }
  #onNotify(n: NodeNotification): void {
    this.inbox.push(n);
    if (n.type === 'replica.create') this.replicas.set(n.assignment.replicaId, new FakeReplica(writer, n.assignment));
    if (n.type === 'inputs') this.replicas.get(n.replicaId)?.apply(n.inputs);
  }
  only(): FakeReplica {
    const [r] = [...this.replicas.values()];
    assert.ok(r, `${this.nodeId} hosts a replica`);
    return r;
  }
  /** Goes live: a (fake) producer and a status at what it applied. */
  live(r = this.only(), stateHash = r.snapshot().stateHash): void {
    const id = r.assignment.replicaId;
    const producer = { id: `p-${id}`, closed: false, on: () => undefined } as unknown as types.Producer;
    this.manager.attachProducer(this.nodeId, id, producer);
    this.report(r, stateHash);
  }
  report(r = this.only(), stateHash = r.snapshot().stateHash): void {
    this.manager.onReplicaStatus(this.nodeId, r.assignment.replicaId, {
      appliedSeq: r.applied,
      stateHash,
      framesSent: 1,
    });
  }
  requests(): Extract<NodeNotification, { type: 'replica.snapshotRequest' }>[] {
    return this.inbox.filter(
      (n): n is Extract<NodeNotification, { type: 'replica.snapshotRequest' }> => n.type === 'replica.snapshotRequest',
    );
  }
  answer(snap: { seq: number; stateHash: string; data: Buffer }, r = this.only()) {
    return this.manager.onSnapshot(this.nodeId, r.assignment.replicaId, snap.seq, snap.stateHash, snap.data);
  }
  /** The seq of the latest checkpoint asked of it. */
  asked(): number {
    const seq = this.requests().at(-1)?.seq;
    assert.ok(seq !== undefined, `${this.nodeId} was asked for a snapshot`);
    return seq;
  }
  /** Answers the latest checkpoint honestly (or with a forgery). */
  answerAsked(forge = false) {
    const r = this.only();
    return this.answer(forge ? r.forged(this.asked()) : r.snapshot(this.asked()), r);
  }
}

const until = async (what: string, pred: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function rig(t: TestContext, snapshotEvery = 10, standbyInputHoldMs = 0) {
  const dir = makeTmpDir(t);
  const db = openDatabase(join(dir, 'lockstep.sqlite'));
  const log = SqliteInputLog.open(db);
  const store = SqliteSessionStore.open(db);
  // The fake nodes answer a checkpoint from the state they hold at once, so they get every input at once
  // (unless a test asks for batches): nobody watches their (absent) video, so every replica is a standby.
  const config = loadServerConfig({ dataDir: dir, snapshotEvery, healthIntervalMs: 5, standbyInputHoldMs });
  const sfu = { closeRouter: () => Promise.resolve(), watchers: new StreamWatchers() } as unknown as Sfu;
  const sessions = { has: (_id: string): boolean => false };
  const sequencer = new Sequencer({ log, contiguous: true, sessionExists: (id) => sessions.has(id) });
  const m = await SessionManager.create({ config, log, store, sequencer, sfu, now: () => NOW });
  sessions.has = (id) => m.sessions.has(id);
  t.after(async () => {
    m.close();
    await sequencer.close();
    db.close();
  });
  const nodes = ['a', 'b', 'c'].map((h) => new FakeNode(m, `node-${h}`, `host-${h}`));
  const session = await m.createSession({ owner: 'local', app: 'writer', replicationFactor: 3 });
  for (const n of nodes) n.live();
  let clientSeq = 0;
  const type = async (text: string) => {
    for (const ch of text) {
      await m.submitInput(session.sessionId, 'viewer', clientSeq++, {
        type: 'key',
        action: 'down',
        key: ch,
        code: '',
        text: ch,
        mods: { shift: false, ctrl: false, alt: false, meta: false },
      });
    }
    for (const n of m.nodes.all()) {
      const fake = nodes.find((x) => x.nodeId === n.nodeId);
      if (fake) for (const r of fake.replicas.values()) fake.report(r);
    }
  };
  /** Types, waits for the checkpoint that follows, and confirms it with two honest hosts; the new snapshot seq. */
  const confirm = async (text: string): Promise<number> => {
    const before = nodes.map((n) => n.requests().length);
    await type(text);
    await until('a new checkpoint', () => nodes.every((n, i) => n.requests().length > (before[i] ?? 0)));
    for (const n of nodes.slice(0, 2)) await n.answerAsked();
    return m.get(session.sessionId).snapshot?.seq ?? -1;
  };
  return { m, log, nodes, sessionId: session.sessionId, type, confirm };
}

describe('snapshot quorum rule', () => {
  it('needs a strict majority of the session hosts, never fewer than two', () => {
    assert.equal(snapshotQuorum(1), 2);
    assert.equal(snapshotQuorum(2), 2);
    assert.equal(snapshotQuorum(3), 2);
    assert.equal(snapshotQuorum(4), 3);
    assert.equal(snapshotQuorum(5), 3);
  });

  it('counts hosts, not replicas, and refuses what was not asked', () => {
    const cp = new SnapshotCheckpoint(
      7,
      [
        { replicaId: 'r1', hostId: 'h1' },
        { replicaId: 'r2', hostId: 'h1' },
        { replicaId: 'r3', hostId: 'h2' },
      ],
      3,
      0,
    );
    const data = Buffer.from('x');
    cp.report('r1', 7, 'aa', data);
    cp.report('r2', 7, 'aa', data);
    assert.equal(cp.decision(), null, 'two replicas on one host are one voice');
    assert.throws(() => cp.report('r9', 7, 'aa', data), ForbiddenError);
    assert.throws(() => cp.report('r3', 8, 'aa', data), ForbiddenError);
    cp.report('r3', 7, 'aa', data);
    assert.deepEqual(cp.decision()?.hosts, ['h1', 'h2']);
  });

  it('a replica cannot change its vote', () => {
    const cp = new SnapshotCheckpoint(
      1,
      [
        { replicaId: 'r1', hostId: 'h1' },
        { replicaId: 'r2', hostId: 'h2' },
        { replicaId: 'r3', hostId: 'h3' },
      ],
      3,
      0,
    );
    cp.report('r1', 1, 'good', Buffer.from('g'));
    cp.report('r2', 1, 'evil', Buffer.from('e'));
    cp.report('r2', 1, 'good', Buffer.from('g'));
    assert.equal(cp.decision(), null);
    cp.report('r3', 1, 'evil', Buffer.from('e'));
    assert.equal(cp.decision()?.stateHash, 'evil', 'two colluding hosts of three can (documented limit)');
  });
});

describe('SessionManager snapshots', () => {
  it('refuses an unsolicited snapshot and stores one only when a majority of hosts agree', async (t) => {
    const { m, log, nodes, sessionId, type } = await rig(t);
    const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
    await type('hello');
    // A hostile node's snapshot nobody asked for: refused, nothing stored.
    await assert.rejects(() => c.answer(c.only().forged()), ForbiddenError);
    assert.equal(await log.latestSnapshot(sessionId), null);

    await type(' world, more');
    await until('a checkpoint request to every replica', () => nodes.every((n) => n.requests().length > 0));
    const seq = a.asked();
    assert.ok(seq >= 10 && seq <= m.get(sessionId).headSeq);
    await assert.rejects(() => c.answer(c.only().forged(seq + 1)), ForbiddenError, 'only the seq asked for');
    assert.deepEqual(await c.answerAsked(true), { stored: false, confirmed: false });
    assert.deepEqual(await a.answerAsked(), { stored: false, confirmed: false }, 'one honest host is not enough');
    assert.equal(await log.latestSnapshot(sessionId), null);
    assert.deepEqual(await b.answerAsked(), { stored: true, confirmed: true });
    const stored = await log.latestSnapshot(sessionId);
    assert.equal(stored?.seq, seq);
    assert.equal(stored.stateHash, a.only().snapshot(seq).stateHash);
    // The first confirmed snapshot truncates nothing: there is no previous one to fall back to.
    assert.equal((await log.read(sessionId, 1, 1, 1)).length, 1);
    // After the decision, late answers are unsolicited.
    await assert.rejects(() => c.answer(c.only().forged()), ForbiddenError);
  });

  it('truncates the log only behind the previous confirmed snapshot', async (t) => {
    const { log, sessionId, confirm } = await rig(t);
    const first = await confirm('first snapshot text');
    const second = await confirm(' and the second one');
    assert.ok(second > first && first > 0);
    assert.equal((await log.read(sessionId, 1, first, 100)).length, 0, 'compacted through the previous snapshot');
    assert.equal((await log.read(sessionId, first + 1, second, 100)).length, second - first, 'its tail is kept');
    assert.equal((await log.snapshotAt(sessionId, first))?.seq, first, 'the previous snapshot is kept');
    const third = await confirm(' and a third');
    assert.equal(await log.snapshotAt(sessionId, first), null, 'older ones are pruned');
    assert.equal((await log.read(sessionId, second, second, 1)).length, 0);
    assert.equal((await log.snapshotBefore(sessionId, third))?.seq, second);
  });

  it('a replica that diverges after restoring the latest snapshot is not quarantined: it restarts from the previous one', async (t) => {
    const { m, log, nodes, sessionId, confirm } = await rig(t);
    const first = await confirm('state before the first snapshot');
    const second = await confirm(' and before the second');

    // Host c goes; host d takes its place and starts from the latest snapshot.
    const [a, b] = nodes as [FakeNode, FakeNode, FakeNode];
    m.nodeGone('node-c', 'test');
    const d = new FakeNode(m, 'node-d', 'host-d');
    const placed = d.only();
    assert.equal(placed.assignment.snapshot?.seq, second);
    // It restores, but what it was given does not match what the others have: it reports another hash.
    const snap = await m.fetchSnapshot('node-d', placed.assignment.replicaId);
    assert.equal(snap?.seq, second);
    placed.state = writer.restore(snap.data);
    placed.applied = snap.seq;
    placed.apply(await log.read(sessionId, second + 1, m.get(sessionId).headSeq, 1000));
    d.live(placed, 'f'.repeat(32));
    a.report();
    b.report();

    await until('the bad replica replaced', () => d.replicas.size === 2);
    const session = m.get(sessionId);
    assert.ok(!session.quarantinedHosts.has('host-d'), 'the honest host is not quarantined');
    assert.equal(session.snapshot?.seq, first, 'the session falls back to the previous snapshot');
    assert.equal(await log.snapshotAt(sessionId, second), null, 'the suspect snapshot is gone');
    const retry = [...d.replicas.values()][1];
    assert.equal(retry?.assignment.snapshot?.seq, first);
    assert.equal((await m.fetchSnapshot('node-d', retry.assignment.replicaId))?.seq, first);
    // The log still holds everything after the fallback point.
    const head = session.headSeq;
    assert.equal((await log.read(sessionId, first + 1, head, 1000)).length, head - first);
  });
});

describe('SessionManager status acks', () => {
  it('tell a standby the head of what it was sent, not of inputs still held for its batch', async (t) => {
    const { m, nodes, sessionId, type } = await rig(t, 1000, 150);
    const a = nodes[0] as FakeNode;
    const r = a.only();
    const ack = () =>
      m.onReplicaStatus(a.nodeId, r.assignment.replicaId, {
        appliedSeq: r.applied,
        stateHash: r.snapshot().stateHash,
        framesSent: 1,
      }).headSeq;
    await type('abc');
    assert.equal(m.get(sessionId).headSeq, 3);
    assert.equal(r.applied, 0, 'held for the batch');
    // The log's head would have the node fetch what is on its way (and then receive it again in the batch).
    assert.equal(ack(), 0);
    await until('the batch', () => r.applied === 3);
    assert.equal(ack(), 3);
    await type('d');
    assert.equal(ack(), 3, 'the fourth is held: the node is owed nothing it lacks');
    await until('the next batch', () => r.applied === 4);
    assert.equal(ack(), 4);
  });
});
