// What the server refuses from renderer nodes, and logs: a snapshot whose
// bytes do not match its hash, a status for a replica the node does not host,
// and a node that turns out not to have the pinned app version (its replica is
// re-placed on a node that does). Also: placement prefers nodes that keep the
// app warm.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NodeNotification } from '../../protocol/signalling.js';
import { appContentHash } from '../../render/app-catalog.js';
import { stateHashOf } from '../../render/app-hash.js';
import { RawNode } from '../helpers/node-client.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

type Create = Extract<NodeNotification, { type: 'replica.create' }>;

describe('node refusals', () => {
  let server: ServerProc;
  let fake: RawNode;
  let viewer: TestViewer;

  before(async () => {
    server = await startServer();
    fake = await RawNode.connect(server.url, await server.hostToken('fake-host'));
    const reg = await fake.raw({
      type: 'node.register',
      nodeId: 'fake-node',
      hostId: 'fake-host',
      apps: [{ name: 'writer', hash: appContentHash('writer') }],
      capacity: { cores: 64, maxReplicas: 100 },
    });
    assert.equal(reg.ok, true);
    viewer = await TestViewer.connect(server.url);
  });

  const createWriterSession = () =>
    viewer.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2, width: 320, height: 240 });

  /** A new R=2 session, and the replica the server placed on the fake node. */
  async function sessionWithFakeReplica() {
    const { session } = await createWriterSession();
    const mine = await waitFor('an assignment on the fake node', () =>
      fake.notifications.find(
        (n): n is Create => n.type === 'replica.create' && n.assignment.sessionId === session.sessionId,
      ),
    );
    return { session, mine };
  }

  after(async () => {
    viewer?.close();
    fake?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('refuses a snapshot nobody asked for, and a status for a replica the node does not host', async () => {
    await startNode({ url: server.url, hostId: 'host-a' });
    const { session, mine } = await sessionWithFakeReplica();
    const data = Buffer.from('{"not":"the state"}');
    const bad = await fake.raw({
      type: 'replica.snapshot',
      replicaId: mine.assignment.replicaId,
      seq: 0,
      stateHash: stateHashOf(Buffer.from('something else')),
      data: data.toString('base64'),
    });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.error.code, 'forbidden');

    const other = await waitFor('the real node’s replica', async () =>
      (await getSession(server.url, session.sessionId)).replicas.find((r) => r.hostId === 'host-a'),
    );
    const foreign = await fake.raw({
      type: 'replica.status',
      replicaId: other.replicaId,
      appliedSeq: 0,
      stateHash: 'a'.repeat(32),
      framesSent: 0,
    });
    assert.equal(foreign.ok, false);
    if (!foreign.ok) assert.equal(foreign.error.code, 'forbidden');

    // Logs are written asynchronously: wait for both lines.
    await waitFor('both refusals logged', () => {
      const lines = server.output().split('\n');
      return (
        lines.some((l) => l.includes('refused an unsolicited snapshot')) &&
        lines.some((l) => l.includes('"code":"forbidden"') && l.includes('replica.status'))
      );
    });
  });

  it('a node without the pinned version refuses; the replica is re-placed and the node is not asked again', async () => {
    await startNode({ url: server.url, hostId: 'host-b' });
    const { session, mine } = await sessionWithFakeReplica();
    const res = await fake.raw({
      type: 'replica.refuse',
      replicaId: mine.assignment.replicaId,
      // The code, not the words, makes it permanent (a refusal without one only re-places).
      code: 'app-version',
      reason: `app version writer@${mine.assignment.app.hash} not on this node`,
    });
    assert.equal(res.ok, true);
    const s = await waitFor(
      're-placed on real nodes',
      async () => {
        const info = await getSession(server.url, session.sessionId);
        const live = info.replicas.filter((r) => r.state === 'live');
        return live.length === 2 && !info.replicas.some((r) => r.hostId === 'fake-host') ? info : undefined;
      },
      30_000,
    );
    assert.deepEqual(new Set(s.replicas.map((r) => r.hostId)), new Set(['host-a', 'host-b']));
    await waitFor('refusal logged', () => server.output().includes('node refused a replica'));

    // Dropped from its advertised apps: a new session is not offered to it.
    const before = fake.notifications.length;
    const third = await createWriterSession();
    await waitFor('placed', async () => (await getSession(server.url, third.session.sessionId)).replicas.length === 2);
    assert.ok(!fake.notifications.slice(before).some((n) => n.type === 'replica.create'));
  });
});
