// The session manager's adoption hook, driven by fake nodes (real SQLite log
// and sequencer, a fixed fake clock): held replicas are adopted with their ids,
// go live only once their hash agrees with the others, a liar is voted out,
// and fresh replica ids never collide with announced ones.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it, type TestContext } from 'node:test';
import type { types } from 'mediasoup';
import type { HeldReplica, NodeNotification } from '../../protocol/signalling.js';
import { appCatalog } from '../../render/app-catalog.js';
import { loadServerConfig } from '../../server/config.js';
import { openDatabase } from '../../server/database.js';
import type { RegisteredNode } from '../../server/node-port.js';
import { Sequencer } from '../../server/sequencer.js';
import { SessionManager } from '../../server/session-manager.js';
import type { Sfu } from '../../server/sfu.js';
import { SqliteInputLog } from '../../server/sqlite-input-log.js';
import { SqliteSessionStore } from '../../server/sqlite-session-store.js';
import { StreamWatchers } from '../../server/stream-watchers.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { nodeRecord } from '../helpers/node-view.js';

const NOW = 1_000_000;
const H1 = '1111111111111111';
/** The gateway checks tickets before the manager sees a claim (replica-tickets.ts); here it is only carried. */
const TICKET = 'A'.repeat(43);
const H2 = '2222222222222222';

async function rig(t: TestContext, dir = makeTmpDir(t), adoptionWindowMs = 2500) {
  const db = openDatabase(join(dir, 'lockstep.sqlite'));
  const log = SqliteInputLog.open(db);
  const store = SqliteSessionStore.open(db);
  const config = loadServerConfig({ dataDir: dir, healthIntervalMs: 5, adoptionWindowMs });
  const sfu = { closeRouter: () => Promise.resolve(), watchers: new StreamWatchers() } as unknown as Sfu;
  const sequencer = new Sequencer({ log, contiguous: true, sessionExists: () => true });
  // The core's clock starts at NOW and follows real time: the adoption window after a start is measured on it.
  const started = Date.now();
  const now = () => NOW + (Date.now() - started);
  const m = await SessionManager.create({ config, log, store, sequencer, sfu, now });
  const close = async () => {
    m.close();
    await sequencer.close();
    db.close();
  };
  let closed = false;
  t.after(() => (closed ? undefined : close()));
  return Object.assign(m, {
    /** Stops this manager and its database (a server going down). */
    stop: async () => {
      closed = true;
      await close();
    },
  });
}

function fakeNode(host: string, inbox: NodeNotification[]): RegisteredNode {
  return {
    ...nodeRecord(`node-${host}`, appCatalog(), {
      hostId: `host-${host}`,
      admissionId: `token-${host}`,
      warmApps: [],
      registeredAt: NOW,
      lastHeartbeatAt: NOW,
    }),
    notify: (n) => inbox.push(n),
    disconnect: () => undefined,
  };
}

const until = async (what: string, pred: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

it('held replicas are adopted, vouched for by the majority, and a lying one is voted out', async (t) => {
  const m = await rig(t);
  const { sessionId, app } = await m.createSession({ owner: 'local', app: 'writer', replicationFactor: 3 });
  const claim = (n: number, stateHash = H1): HeldReplica => ({
    replicaId: `${sessionId}.r${n}`,
    sessionId,
    app,
    appliedSeq: 0,
    stateHash,
    ticket: TICKET,
  });
  const inbox = new Map<string, NodeNotification[]>();
  const register = (host: string, held: HeldReplica[]) => {
    const box: NodeNotification[] = [];
    inbox.set(host, box);
    return m.registerNode(fakeNode(host, box), held);
  };
  const state = (n: number) => m.get(sessionId).replicas.get(`${sessionId}.r${n}`)?.state;
  const produce = (host: string, n: number, stateHash: string) => {
    const producer = { id: `p-${n}`, closed: false, on: () => undefined } as unknown as types.Producer;
    m.attachProducer(`node-${host}`, `${sessionId}.r${n}`, producer);
    m.onReplicaStatus(`node-${host}`, `${sessionId}.r${n}`, { appliedSeq: 0, stateHash, framesSent: 1 });
  };

  // r1 and r3 disagree at seq 0 (a tie): neither is vouched for, so neither goes live.
  assert.deepEqual(register('a', [claim(1)]), [{ replicaId: `${sessionId}.r1`, headSeq: 0 }]);
  // Another app version, and a second replica of the session on the same host: refused.
  const otherApp = { ...claim(7), app: { name: 'writer', hash: 'ffffffffffffffff' } };
  assert.deepEqual(register('c', [otherApp, claim(3, H2)]), [{ replicaId: `${sessionId}.r3`, headSeq: 0 }]);
  produce('a', 1, H1);
  produce('c', 3, H2);
  assert.equal(state(1), 'catching-up');
  assert.equal(state(3), 'catching-up');
  // r2's claim (a status report like any other) agrees with r1: two of three.
  assert.deepEqual(register('b', [claim(2)]), [{ replicaId: `${sessionId}.r2`, headSeq: 0 }]);
  // The session has its three: a fourth held replica is not adopted.
  assert.deepEqual(register('d', [claim(4)]), []);
  for (const box of inbox.values()) assert.equal(box.filter((n) => n.type === 'replica.create').length, 0);
  produce('b', 2, H1);
  assert.equal(state(2), 'live');
  m.onReplicaStatus('node-a', `${sessionId}.r1`, { appliedSeq: 0, stateHash: H1, framesSent: 2 });
  assert.equal(state(1), 'live');
  // r3 claimed another state at the same seq: never live, voted out, its host quarantined.
  m.onReplicaStatus('node-c', `${sessionId}.r3`, { appliedSeq: 0, stateHash: H2, framesSent: 2 });
  assert.notEqual(state(3), 'live');
  await until('r3 voted out', () => state(3) === undefined);
  assert.ok(m.get(sessionId).quarantinedHosts.has('host-c'));
  // Its replacement goes to host-d, with an id above every announced one (r7 was announced).
  await until('a replacement placed', () => (inbox.get('d') ?? []).some((n) => n.type === 'replica.create'));
  const create = inbox.get('d')?.find((n) => n.type === 'replica.create');
  assert.equal(create?.type === 'replica.create' ? create.assignment.replicaId : null, `${sessionId}.r8`);
});

it("a held replica whose applied seq is beyond the log's head is not adopted", async (t) => {
  const m = await rig(t);
  const { sessionId, app } = await m.createSession({ owner: 'local', app: 'writer', replicationFactor: 2 });
  const held: HeldReplica[] = [
    { replicaId: `${sessionId}.r1`, sessionId, app, appliedSeq: 5, stateHash: H1, ticket: TICKET },
  ];
  await m.syncHeads(held);
  assert.deepEqual(m.registerNode(fakeNode('a', []), held), []);
  assert.equal(m.get(sessionId).replicas.size, 1, 'a fresh replica was placed instead');
  assert.equal([...m.get(sessionId).replicas.keys()][0], `${sessionId}.r2`);
});

it('after a restart, loaded sessions wait a moment for their nodes to come back before fresh replicas are placed', async (t) => {
  const dir = makeTmpDir(t);
  const first = await rig(t, dir);
  const { sessionId, app } = await first.createSession({ owner: 'local', app: 'writer', replicationFactor: 2 });
  await first.stop();
  const m = await rig(t, dir, 300);
  const spare: NodeNotification[] = [];
  m.registerNode(fakeNode('spare', spare), []);
  // The spare node is not given the session while its holders may still come back...
  const held: HeldReplica[] = [
    { replicaId: `${sessionId}.r1`, sessionId, app, appliedSeq: 0, stateHash: H1, ticket: TICKET },
  ];
  assert.equal(m.registerNode(fakeNode('a', []), held).length, 1, 'a holder coming back is adopted');
  assert.equal(spare.filter((n) => n.type === 'replica.create').length, 0);
  // ...and is once the window is over (the session still has only one of its two).
  await until('a fresh replica for the rest', () => spare.some((n) => n.type === 'replica.create'));
});
