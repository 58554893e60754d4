// Several servers share the session list and their node view over etcd (real
// 3-member etcd, two server processes, one real renderer node): a session
// created on A is opened on B from the session watch and forgotten there when
// A closes it; the node homed on A is published in the cluster's node
// directory (signed, under A's lease) and leaves it when the node stops.
// Inputs reach every server's replicas from the shared log (the InputFeed):
// typed through A and through B, both servers' replicas apply all of it in one
// order and agree. The leader places the session's two replicas one per home
// server (cluster-placement.test.ts covers placement itself).
import assert from 'node:assert/strict';
import type { SessionInfo } from '../../protocol/session.js';
import type { WriterState } from '../../render/apps/writer/index.js';
import { after, describe, it } from 'node:test';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openNodeEntry } from '../../server/cluster/node-directory.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { startNode, startServer, stopAll } from '../helpers/processes.js';
import { referenceState } from '../helpers/reference-render.js';
import { keyDown, keyUp } from '../helpers/key-input.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

const SECRET = 'cluster-sessions-test-secret-0123456789';
const NODES = 'lockstep/cluster/nodes/';

describe('several servers share sessions and nodes over etcd', () => {
  const etcd = etcdSuite(stopAll);
  after(stopAll);

  it('inputs typed through A and through B are applied by the replicas on both servers, in one order', async () => {
    const env = { LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`, LOCKSTEP_CLUSTER_SECRET: SECRET };
    const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };
    const a = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'fa' } });
    const b = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'fb' } });
    await startNode({ url: a.url, hostId: 'host-fa', env: { LOCKSTEP_JOIN_TOKEN: await a.hostToken('host-fa') } });
    await startNode({ url: b.url, hostId: 'host-fb', env: { LOCKSTEP_JOIN_TOKEN: await a.hostToken('host-fb') } });
    const viewerA = await TestViewer.connect(a.url);
    const { session } = await viewerA.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: 480,
      height: 320,
    });
    const sessionId = session.sessionId;
    const oneLive = async (url: string) => {
      const s = await getSession(url, sessionId).catch(() => undefined);
      return s?.replicas.some((r) => r.state === 'live') ? s : undefined;
    };
    await waitFor('a replica live on A', () => oneLive(a.url), 30_000);
    await waitFor('a replica live on B', () => oneLive(b.url), 30_000);
    const viewerB = await TestViewer.connect(b.url);
    await viewerA.request({ type: 'session.join', sessionId, clientId: 'via-a' });
    await viewerB.request({ type: 'session.join', sessionId, clientId: 'via-b' });
    // Interleaved, each acknowledged before the next: the log order is the typing order.
    const text = 'abcdefghij';
    for (const [i, ch] of [...text].entries()) {
      const v = i % 2 === 0 ? viewerA : viewerB;
      await v.request({ type: 'input', sessionId, clientSeq: v.clientSeq++, event: keyDown(ch) });
      // Its release, as a viewer from before keyUps sends it: refused by either server (B knows the session
      // from the watch alone) and never logged; that viewer's next key goes on past the hole.
      const up = await v.raw({ type: 'input', sessionId, clientSeq: v.clientSeq++, event: keyUp(ch) });
      assert.equal(up.ok ? 'logged' : up.error.code, 'unwanted-input', `key-up via ${i % 2 === 0 ? 'A' : 'B'}`);
    }
    const settled = (s: SessionInfo | undefined) =>
      s && s.headSeq >= text.length && s.replicas.some((r) => r.state === 'live' && r.appliedSeq === s.headSeq);
    const sa = await waitFor('A applied all', async () => {
      const s = await getSession(a.url, sessionId);
      return settled(s) ? s : undefined;
    });
    const sb = await waitFor('B applied all', async () => {
      const s = await getSession(b.url, sessionId);
      return settled(s) ? s : undefined;
    });
    const hashA = sa.replicas.find((r) => r.hostId === 'host-fa')?.stateHash;
    const hashB = sb.replicas.find((r) => r.hostId === 'host-fb')?.stateHash;
    assert.ok(hashA, 'a replica on host-fa (homed on A)');
    assert.equal(hashB, hashA, 'the replicas on both servers agree');
    assert.deepEqual([sa.headSeq, sb.headSeq], [text.length, text.length], 'one input per key');
    assert.deepEqual(sb.inputs, { keyUps: false, touch: 'text' }, "B reports the writer's manifest too");
    const state = (await referenceState(a.url, 'writer', 480, 320, sessionId)) as WriterState;
    assert.equal(state.text, text, 'the log holds the typing order');
    viewerA.close();
    viewerB.close();
  });

  it('a session created on A is opened on B and closed there with it; A publishes its node homed on A', async () => {
    const env = { LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`, LOCKSTEP_CLUSTER_SECRET: SECRET };
    const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };
    const a = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'a' } });
    const b = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'b' } });
    // Created after B started: B can only know it from the session watch.
    const viewerA = await TestViewer.connect(a.url);
    const { session } = await viewerA.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 });
    const sessionId = session.sessionId;
    const onB = await waitFor('B opened the session', async () => getSession(b.url, sessionId).catch(() => undefined));
    assert.equal(onB.sessionId, sessionId);
    assert.deepEqual(onB.app, session.app);

    const secret = ClusterSecret.fromConfig(SECRET, false);
    const directory = async () => {
      const raw = await etcd.client().getAll().prefix(NODES).strings();
      return Object.entries(raw).flatMap(([key, value]) => openNodeEntry(secret, NODES, key, value) ?? []);
    };
    const node = await startNode({
      url: a.url,
      hostId: 'host-x',
      env: { LOCKSTEP_JOIN_TOKEN: await a.hostToken('host-x') },
    });
    const entry = await waitFor('the node in the directory', async () =>
      (await directory()).find((n) => n.hostId === 'host-x'),
    );
    assert.equal(entry.homeServerId, 'a');
    await node.kill('SIGTERM');
    await waitFor('the node gone from the directory', async () =>
      (await directory()).some((n) => n.hostId === 'host-x') ? undefined : true,
    );

    await viewerA.request({ type: 'sessions.close', sessionId });
    await waitFor(
      'B forgot the session',
      async () =>
        (await getSession(b.url, sessionId)
          .then(() => false)
          .catch(() => true)) || undefined,
    );
    viewerA.close();
  });
});
